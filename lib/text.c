/* text.c: checks of carried text (text.h). */
#include "text.h"

#include <string.h>

size_t
kdx_utf8_char(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned long cp, min;

	if (c < 0x80)
		return 1;
	else if ((c & 0xE0) == 0xC0)
		len = 2, cp = c & 0x1F, min = 0x80;
	else if ((c & 0xF0) == 0xE0)
		len = 3, cp = c & 0x0F, min = 0x800;
	else if ((c & 0xF8) == 0xF0)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t j = 1; j < len; j++) {
		if ((s[j] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[j] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

int
kdx_utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0, len; i < n; i += len)
		if (!(len = kdx_utf8_char(s + i, n - i)))
			return 0;
	return 1;
}

const char *
kdx_names_bad(const char *blob, size_t n)
{
	if (n == 0)
		return NULL;
	if (blob[n - 1] != '\0')
		return "no final NUL";
	if (!kdx_utf8_ok((const unsigned char *)blob, n))
		return "bytes that are not UTF-8";
	for (size_t i = 0; i < n; i++)
		if ((blob[i] > 0 && blob[i] < 0x20) || blob[i] == 0x7f)
			return "a control character";
	return NULL;
}

const char *
kdx_name_at(const char *names, size_t c)
{
	if (!names)
		return NULL;
	while (c--)
		names += strlen(names) + 1;
	return names;
}
