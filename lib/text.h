/* text.h: checks of text that kd carries from one file to another (class
 * names), so that JSON, tables and pictures made from it stay valid. */
#ifndef KD_TEXT_H
#define KD_TEXT_H

#include <stddef.h>

/* kdx_utf8_char: the bytes (1 to 4) of the well-formed UTF-8 character
 * at s, which has n > 0 bytes left, or 0 when none starts there (an
 * overlong form, a surrogate, above U+10FFFF, or cut short) */
size_t kdx_utf8_char(const unsigned char *s, size_t n);

/* kdx_utf8_ok: s[0..n-1] is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) */
int kdx_utf8_ok(const unsigned char *s, size_t n);

/* kdx_names_bad: NULL when blob[0..n-1] (n may be 0) is NUL-terminated
 * names back to back, each well-formed UTF-8 without control characters
 * (below U+0020, or U+007F); else what is wrong, as a phrase ("a control
 * character", "bytes that are not UTF-8", "no final NUL") */
const char *kdx_names_bad(const char *blob, size_t n);

/* kdx_name_at: name c of names, NUL-terminated names back to back (c
 * below their count: the caller checks), or NULL when names is NULL */
const char *kdx_name_at(const char *names, size_t c);

#endif
