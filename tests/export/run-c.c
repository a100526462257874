/* run-c.c: the exported C model over rows printed by
 * `kd-teacher -m MODEL --inputs DATA | kd-cat --inputs` (tests only).
 *
 * Built against a model exported with --name model (kd-export --c):
 *   cc -std=c99 -I. -o run-c run-c.c model.c -lm
 *   run-c [--probs | --predict] < rows.csv > out.csv
 *   run-c --names
 * prints the stream's header line, the names of the first 2 + K columns, then per row "id,label," and the
 * exported model's logits (or probabilities, or predicted class) for the
 * row's inputs, each value %.9g (exact for float), so that the output
 * compares with kd-cat's own lines (--predict: only the classes, one a
 * line); --names prints the class names, one
 * a line ("(none)" for NULL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define LINE_MAX_BYTES (1 << 22)

int
main(int argc, char **argv)
{
	static char line[LINE_MAX_BYTES];
	float x[MODEL_INPUTS], z[MODEL_CLASSES];
	int mode = argc > 1 ? (!strcmp(argv[1], "--probs") ? 1 : 2) : 0;
	long n = 0;

	if (argc > 1 && !strcmp(argv[1], "--names")) {
		for (int k = 0; k < MODEL_CLASSES; k++)
			puts(model_class_names[k] ? model_class_names[k] : "(none)");
		return 0;
	}
	while (fgets(line, sizeof line, stdin)) {
		char *p = line, *end;
		int f, k;
		if (++n == 1) { /* the stream's header */
			if (mode != 2)
				fputs(line, stdout);
			continue;
		}
		if (n == 2) { /* the column names: id, label and the K values */
			for (f = 0; f < 2 + MODEL_CLASSES && (p = strchr(p, ',')); f++)
				p++;
			if (mode != 2 && p)
				printf("%.*s\n", (int)(p - line - 1), line);
			continue;
		}
		/* id, label, then the K values kd-cat printed, then the inputs */
		for (f = 0; f < 2 + MODEL_CLASSES; f++) {
			p = strchr(p, ',');
			if (!p) {
				fprintf(stderr, "run-c: line %ld: too few fields\n", n);
				return 1;
			}
			if (f == 1 && mode != 2)
				fwrite(line, 1, (size_t)(p - line) + 1, stdout);
			p++;
		}
		for (f = 0; f < MODEL_INPUTS; f++) {
			x[f] = strtof(p, &end);
			if (end == p || (*end != ',' && *end != '\n')) {
				fprintf(stderr, "run-c: line %ld: input %d is not a number\n", n, f);
				return 1;
			}
			p = end + 1;
		}
		if (mode == 2) {
			printf("%d\n", model_predict(x));
			continue;
		}
		if (mode == 1)
			model_probs(x, z);
		else
			model_logits(x, z);
		for (k = 0; k < MODEL_CLASSES; k++)
			printf("%.9g%c", (double)z[k], k + 1 < MODEL_CLASSES ? ',' : '\n');
	}
	return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
