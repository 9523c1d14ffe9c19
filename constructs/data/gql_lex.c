/*
 * The GraphQL SDL parser, stage 1: the lexer. Tokens with 1-based line
 * and column (columns count Unicode code points), UTF-8 validated, strings
 * decoded (into the parser's arena).
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <synth/common.h>
#include <synth/sys/util.h>
#include "graphql.h"
#include "gql_internal.h"

/* --- the lexer --------------------------------------------------------------- */

static int peekc(const parser *p, size_t k)
{
	return p->i + k < p->n ? p->s[p->i + k] : -1;
}

/* Consumes one byte. A line ends at \n, \r\n or \r; a column counts code
 * points (continuation bytes do not count). */
static void bump(parser *p)
{
	unsigned char c = p->s[p->i++];
	if (c == '\n') {
		p->line++;
		p->col = 1;
	} else if (c == '\r') {
		if (p->i < p->n && p->s[p->i] == '\n')
			p->i++;
		p->line++;
		p->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		p->col++;
	}
}

static loc here(const parser *p)
{
	return (loc){p->line, p->col};
}

/* The code point of the UTF-8 sequence at S (N bytes available) and its
 * length, or -1 if it is not well-formed (overlong, surrogate, too big,
 * truncated). */
long synth__gql_lex_utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
	unsigned c = s[0];
	size_t k;
	unsigned long cp, min;
	if (c < 0x80) {
		*len = 1;
		return c;
	} else if ((c & 0xE0) == 0xC0) {
		k = 2, cp = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		k = 3, cp = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		k = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (n < k)
		return -1;
	for (size_t j = 1; j < k; j++) {
		if ((s[j] & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (s[j] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*len = k;
	return (long)cp;
}

/* Checks the (non-ASCII) character at the cursor and consumes it; appends
 * its bytes to the scratch buffer if KEEP. */
static int lex_utf8(parser *p, bool keep)
{
	size_t k;
	if (synth__gql_lex_utf8_decode(p->s + p->i, p->n - p->i, &k) < 0)
		return synth__gql_parse_fail(p, here(p),
				"invalid UTF-8 (byte 0x%02X): a schema must be UTF-8 text",
			    p->s[p->i]);
	if (keep)
		synth_buf_put(&p->sb, (const char *)p->s + p->i, k);
	while (k--)
		bump(p);
	return 0;
}

static int bad_char(parser *p)
{
	int c = peekc(p, 0);
	if (c >= 0x80) {
		size_t k;
		long cp = synth__gql_lex_utf8_decode(p->s + p->i, p->n - p->i, &k);
		if (cp < 0)
			return lex_utf8(p, false);
		/* shown as itself unless a control, a separator or a bidi mark */
		if (cp < 0xA0 || (cp >= 0x2000 && cp <= 0x206F) || cp >= 0xFFF0)
			return synth__gql_parse_fail(p, here(p), "unexpected character U+%04lX", cp);
		return synth__gql_parse_fail(p, here(p), "unexpected character '%.*s' (U+%04lX)", (int)k,
			    (const char *)p->s + p->i, cp);
	}
	if (c < 0x20 || c == 0x7F)
		return synth__gql_parse_fail(p, here(p), "unexpected character U+%04X", c);
	return synth__gql_parse_fail(p, here(p), "unexpected character '%c'", c);
}

static int skip_ignored(parser *p)
{
	for (;;) {
		int c = peekc(p, 0);
		if (c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r') {
			bump(p);
		} else if (c == 0xEF && peekc(p, 1) == 0xBB && peekc(p, 2) == 0xBF) {
			/* U+FEFF: ignored anywhere (GraphQL's UnicodeBOM) */
			bump(p), bump(p), bump(p);
		} else if (c == '#') {
			while ((c = peekc(p, 0)) >= 0 && c != '\n' && c != '\r') {
				if (c >= 0x80) {
					if (lex_utf8(p, false))
						return -1;
				} else {
					bump(p);
				}
			}
		} else {
			return 0;
		}
	}
}

bool synth__gql_lex_is_name_start(int c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool synth__gql_lex_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

bool synth__gql_lex_is_name_cont(int c)
{
	return synth__gql_lex_is_name_start(c) || synth__gql_lex_is_digit(c);
}

static int lex_text(parser *p, size_t start, const char *what)
{
	size_t len = p->i - start;
	if (len > SYNTH_GRAPHQL_MAX_NAME)
		return synth__gql_parse_fail(p, p->tok.at,
				"%s is too long (%zu characters; the limit is %d)", what,
			    len, SYNTH_GRAPHQL_MAX_NAME);
	p->tok.text = synth__gql_parse_strndup(p, (const char *)p->s + start, len);
	return p->tok.text ? 0 : -1;
}

static int lex_number(parser *p)
{
	size_t start = p->i;
	bool is_float = false;
	if (peekc(p, 0) == '-')
		bump(p);
	if (peekc(p, 0) == '0') {
		bump(p);
		if (synth__gql_lex_is_digit(peekc(p, 0)))
			return synth__gql_parse_fail(p, here(p), "invalid number: unexpected digit after 0");
	} else if (synth__gql_lex_is_digit(peekc(p, 0))) {
		while (synth__gql_lex_is_digit(peekc(p, 0)))
			bump(p);
	} else {
		return synth__gql_parse_fail(p, here(p), "invalid number: expected a digit after '-'");
	}
	if (peekc(p, 0) == '.') {
		bump(p);
		is_float = true;
		if (!synth__gql_lex_is_digit(peekc(p, 0)))
			return synth__gql_parse_fail(p, here(p),
					"invalid number: expected a digit after '.'");
		while (synth__gql_lex_is_digit(peekc(p, 0)))
			bump(p);
	}
	if (peekc(p, 0) == 'e' || peekc(p, 0) == 'E') {
		bump(p);
		is_float = true;
		if (peekc(p, 0) == '+' || peekc(p, 0) == '-')
			bump(p);
		if (!synth__gql_lex_is_digit(peekc(p, 0)))
			return synth__gql_parse_fail(p, here(p),
					"invalid number: expected a digit in the exponent");
		while (synth__gql_lex_is_digit(peekc(p, 0)))
			bump(p);
	}
	int c = peekc(p, 0);
	if (c == '.' || synth__gql_lex_is_name_start(c))
		return synth__gql_parse_fail(p, here(p), "invalid number: unexpected '%c' after a number", c);
	p->tok.kind = is_float ? T_FLOAT : T_INT;
	return lex_text(p, start, "number");
}

static void put_utf8(synth_buf *b, unsigned long cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
	}
	synth_buf_put(b, u, n);
}

/* \uXXXX or \u{X...} after the "\u" (consumed); -1 on error. */
static long lex_unicode_escape(parser *p, loc esc)
{
	unsigned long cp = 0;
	if (peekc(p, 0) == '{') {
		bump(p);
		int digits = 0, h;
		while ((h = synth_hex_value(peekc(p, 0))) >= 0) {
			if (++digits > 6)
				return synth__gql_parse_fail(p, esc,
						"invalid Unicode escape: too many digits");
			cp = cp << 4 | (unsigned long)h;
			bump(p);
		}
		if (!digits || peekc(p, 0) != '}')
			return synth__gql_parse_fail(p, esc,
					"invalid Unicode escape: expected \\u{hex digits}");
		bump(p);
		if (cp > 0x10FFFF)
			return synth__gql_parse_fail(p, esc,
					"invalid Unicode escape: U+%lX is beyond U+10FFFF", cp);
		return (long)cp;
	}
	for (int j = 0; j < 4; j++) {
		int h = synth_hex_value(peekc(p, 0));
		if (h < 0)
			return synth__gql_parse_fail(p, esc,
					"invalid Unicode escape: expected 4 hex digits after \\u");
		cp = cp << 4 | (unsigned long)h;
		bump(p);
	}
	return (long)cp;
}

static int lex_escape(parser *p)
{
	loc esc = here(p);
	bump(p); /* the backslash */
	int e = peekc(p, 0);
	const char *simple = strchr("\"\\/bfnrt", e > 0 ? e : 'x');
	if (simple && e > 0) {
		static const char out[] = "\"\\/\b\f\n\r\t";
		synth_buf_putc(&p->sb, out[simple - "\"\\/bfnrt"]);
		bump(p);
		return 0;
	}
	if (e != 'u') {
		if (e > 0x20 && e < 0x7F)
			return synth__gql_parse_fail(p, esc, "invalid escape sequence '\\%c'", e);
		return synth__gql_parse_fail(p, esc, "invalid escape sequence");
	}
	bump(p);
	long cp = lex_unicode_escape(p, esc);
	if (cp < 0)
		return -1;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		/* a high surrogate: its low half must follow */
		if (peekc(p, 0) != '\\' || peekc(p, 1) != 'u')
			return synth__gql_parse_fail(p, esc,
					"invalid Unicode escape: lone surrogate U+%04lX", cp);
		loc esc2 = here(p);
		bump(p), bump(p);
		long lo = lex_unicode_escape(p, esc2);
		if (lo < 0)
			return -1;
		if (lo < 0xDC00 || lo > 0xDFFF)
			return synth__gql_parse_fail(p, esc,
					"invalid Unicode escape: lone surrogate U+%04lX", cp);
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
		return synth__gql_parse_fail(p, esc, "invalid Unicode escape: lone surrogate U+%04lX", cp);
	}
	if (cp == 0)
		return synth__gql_parse_fail(p, esc, "a string may not contain U+0000");
	put_utf8(&p->sb, (unsigned long)cp);
	return 0;
}

/* GraphQL's BlockStringValue(): the common indentation of every line but
 * the first removed, then leading and trailing blank lines. RAW has its
 * line ends normalized to \n. */
static char *block_value(parser *p, const char *raw, size_t n)
{
	size_t nlines = 1;
	for (size_t j = 0; j < n; j++)
		nlines += raw[j] == '\n';
	size_t *start = synth__gql_parse_alloc(p, nlines * sizeof *start);
	size_t *len = synth__gql_parse_alloc(p, nlines * sizeof *len);
	char *out = synth__gql_parse_alloc(p, n + 1);
	if (!start || !len || !out)
		return NULL;
	size_t k = 0, s = 0;
	for (size_t j = 0; j <= n; j++) {
		if (j == n || raw[j] == '\n') {
			start[k] = s;
			len[k++] = j - s;
			s = j + 1;
		}
	}
	size_t common = SIZE_MAX;
	for (k = 1; k < nlines; k++) {
		size_t ind = 0;
		while (ind < len[k] && (raw[start[k] + ind] == ' ' || raw[start[k] + ind] == '\t'))
			ind++;
		if (ind < len[k] && ind < common)
			common = ind;
	}
	if (common != SIZE_MAX) {
		for (k = 1; k < nlines; k++) {
			size_t cut = common < len[k] ? common : len[k];
			start[k] += cut;
			len[k] -= cut;
		}
	}
	size_t first = 0, last = nlines;
	for (;; first++) {
		if (first == nlines)
			break;
		size_t j = 0;
		while (j < len[first] && (raw[start[first] + j] == ' ' || raw[start[first] + j] == '\t'))
			j++;
		if (j < len[first])
			break;
	}
	while (last > first) {
		size_t j = 0, l = last - 1;
		while (j < len[l] && (raw[start[l] + j] == ' ' || raw[start[l] + j] == '\t'))
			j++;
		if (j < len[l])
			break;
		last--;
	}
	size_t o = 0;
	for (k = first; k < last; k++) {
		if (k > first)
			out[o++] = '\n';
		memcpy(out + o, raw + start[k], len[k]);
		o += len[k];
	}
	out[o] = '\0';
	return out;
}

static int lex_string(parser *p)
{
	loc start = p->tok.at;
	bool block = peekc(p, 1) == '"' && peekc(p, 2) == '"';
	p->sb.len = 0;
	if (p->sb.ptr)
		p->sb.ptr[0] = '\0';
	bump(p);
	if (block)
		bump(p), bump(p);
	for (;;) {
		int c = peekc(p, 0);
		if (c < 0)
			return synth__gql_parse_fail(p, start,
					"unterminated %s", block ? "block string" : "string");
		if (block) {
			if (c == '"' && peekc(p, 1) == '"' && peekc(p, 2) == '"') {
				bump(p), bump(p), bump(p);
				break;
			}
			if (c == '\\' && peekc(p, 1) == '"' && peekc(p, 2) == '"' && peekc(p, 3) == '"') {
				synth_buf_puts(&p->sb, "\"\"\"");
				bump(p), bump(p), bump(p), bump(p);
				continue;
			}
			if (c == '\n' || c == '\r') {
				synth_buf_putc(&p->sb, '\n');
				bump(p);
				continue;
			}
		} else {
			if (c == '\n' || c == '\r')
				return synth__gql_parse_fail(p, start, "unterminated string");
			if (c == '"') {
				bump(p);
				break;
			}
			if (c == '\\') {
				if (lex_escape(p))
					return -1;
				continue;
			}
		}
		if (c < 0x20 && c != '\t')
			return synth__gql_parse_fail(p, here(p),
					"unexpected character U+%04X in a string", c);
		if (c >= 0x80) {
			if (lex_utf8(p, true))
				return -1;
		} else {
			synth_buf_putc(&p->sb, (char)c);
			bump(p);
		}
	}
	if (p->sb.oom)
		return synth__gql_parse_oom(p);
	const char *raw = p->sb.ptr ? p->sb.ptr : "";
	p->tok.kind = block ? T_BLOCK : T_STRING;
	p->tok.text = block ? block_value(p, raw, p->sb.len) : synth__gql_parse_strndup(p, raw, p->sb.len);
	return p->tok.text ? 0 : -1;
}

/* Reads the next token into p->tok. */
int synth__gql_lex_next(parser *p)
{
	if (p->failed || skip_ignored(p))
		return -1;
	token *t = &p->tok;
	t->at = here(p);
	t->text = NULL;
	int c = peekc(p, 0);
	if (c < 0) {
		t->kind = T_EOF;
		return 0;
	}
	static const char puncts[] = "!$&()\x01:=@[]{|}";
	const char *q = c ? strchr(puncts, c) : NULL;
	if (q && c != 1) {
		t->kind = (enum tok)(T_BANG + (q - puncts));
		bump(p);
		return 0;
	}
	if (c == '.') {
		if (peekc(p, 1) == '.' && peekc(p, 2) == '.') {
			t->kind = T_SPREAD;
			bump(p), bump(p), bump(p);
			return 0;
		}
		return synth__gql_parse_fail(p, t->at, "unexpected character '.'");
	}
	if (c == '"')
		return lex_string(p);
	if (synth__gql_lex_is_name_start(c)) {
		size_t start = p->i;
		while (synth__gql_lex_is_name_cont(peekc(p, 0)))
			bump(p);
		t->kind = T_NAME;
		return lex_text(p, start, "name");
	}
	if (c == '-' || synth__gql_lex_is_digit(c))
		return lex_number(p);
	return bad_char(p);
}
