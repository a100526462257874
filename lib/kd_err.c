/* kd_err.c: filling the library's error record (see kd_err.h). */
#include "kd_err.h"

#include <stdarg.h>
#include <stdio.h>

void
kd_err_set(kd_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

void
kd_err_clear(kd_err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}
