/*
 * The GraphQL SDL parser's private header (constructs/data/gql_*.c and
 * graphql.c; see graphql.c for the stages): the AST, the parser state and
 * what each stage calls of another. Names: synth__gql_<module>_<name>,
 * the module being the file (gql_lex.c, gql_parse.c, gql_check.c).
 */
#ifndef SYNTH_GQL_INTERNAL_H
#define SYNTH_GQL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <synth/sys/util.h>

/* --- the AST ------------------------------------------------------------- */

typedef struct loc {
	unsigned line, col;
} loc;

enum vkind { V_INT, V_FLOAT, V_STRING, V_BOOL, V_NULL, V_ENUM, V_LIST, V_OBJECT };

/* A constant value. Lists and objects hold their items in a list; an
 * object's items (and a directive's arguments) carry their key in name. */
typedef struct gval {
	enum vkind kind;
	loc at;
	const char *s;        /* INT / FLOAT text, STRING value, ENUM name */
	bool b;               /* BOOL */
	struct gval *items;   /* LIST, OBJECT */
	size_t nitems;
	const char *name;     /* as an object field or argument: its key */
	loc name_at;
	struct gval *next;
} gval;

typedef struct gdir {
	const char *name;
	loc at;               /* the '@' */
	gval *args;
	struct gdir *next;
} gdir;

enum tykind { TY_NAMED, TY_LIST, TY_NONNULL };

typedef struct gtype {
	enum tykind kind;
	loc at;
	const char *name;     /* NAMED */
	struct gtype *of;     /* LIST, NONNULL */
} gtype;

/* A field, an argument, an input field, an enum value, a union member or
 * an implemented interface (the last three have no type). */
typedef struct gfield {
	const char *name;
	loc at;
	const char *desc;
	struct gfield *args;
	gtype *type;
	gval *defval;
	gdir *dirs;
	struct gfield *next;
} gfield;

/* An open-addressing string -> pointer table in the arena. */
typedef struct htab {
	const char **keys;
	void **vals;
	size_t cap, len;
} htab;

enum dkind { D_OBJECT, D_INTERFACE, D_INPUT, D_ENUM, D_UNION, D_SCALAR };

typedef struct gdef {
	enum dkind kind;
	const char *name;
	loc at;               /* the name */
	const char *desc;
	gfield *ifaces;       /* implements */
	gdir *dirs;
	gfield *fields;       /* fields, input fields, enum values, members */
	loc body_at;          /* the '{' (or '=' of a union) */
	bool has_body;
	struct gdef *next;
	/* the semantic pass */
	bool is_model;
	htab ftab;            /* field name -> gfield */
	json_t *json;         /* borrowed: its object in the model */
	gfield *pk;           /* @primaryKey field (NULL: implicit id) */
	const char **pk_sort; /* its sortKeyFields */
	size_t npk_sort;
	const char *timestamps[2]; /* createdAt, updatedAt names (NULL: none) */
} gdef;

/* --- the parser state ---------------------------------------------------- */

enum tok {
	T_EOF, T_BANG, T_DOLLAR, T_AMP, T_LPAREN, T_RPAREN, T_SPREAD, T_COLON,
	T_EQUALS, T_AT, T_LBRACKET, T_RBRACKET, T_LBRACE, T_PIPE, T_RBRACE,
	T_NAME, T_INT, T_FLOAT, T_STRING, T_BLOCK
};

typedef struct token {
	enum tok kind;
	loc at;
	const char *text;     /* NAME / INT / FLOAT: its characters; STRING,
				 BLOCK: the decoded value (arena, NUL-terminated) */
} token;

typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
} chunk;

#define CHUNK_SIZE (64u * 1024)

typedef struct parser {
	const char *file;
	const unsigned char *s;
	size_t n, i;
	unsigned line, col;
	token tok;
	int depth;
	bool failed;
	int code;
	chunk *chunks;
	synth_buf sb;         /* scratch for strings */
	gdef *defs, **defs_tail;
	htab types;           /* name -> gdef */
	htab query_fields;    /* @index queryField -> gval (for its position) */
	json_t *root;
	json_t *providers;    /* borrowed from root */
} parser;

/* --- the parser state and the recursive descent (gql_parse.c) ---------- */

/* Records the first error, "FILE:LINE:COL: message" (SYNTH_EINVALID), and
 * returns -1; later errors are dropped. */
int synth__gql_parse_fail(parser *p, loc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Out of memory: records SYNTH_ENOMEM, returns -1. */
int synth__gql_parse_oom(parser *p);
/* Zeroed memory from the arena; NULL (and the parser failed) when out of
 * memory. */
void *synth__gql_parse_alloc(parser *p, size_t n);
/* A NUL-terminated copy of S[0..N) in the arena. */
char *synth__gql_parse_strndup(parser *p, const char *s, size_t n);
/* Frees the arena (everything the AST holds). */
void synth__gql_parse_free(parser *p);
/* A new zeroed TYPE in P's arena (NULL: out of memory, reported). */
#define NEW(p, type) ((type *)synth__gql_parse_alloc((p), sizeof(type)))

/* The value of KEY in T, or NULL. */
void *synth__gql_parse_ht_get(const htab *t, const char *key);
/* Inserts KEY (borrowed: arena strings live as long as the table).
 * Returns the value already there (and inserts nothing), or NULL. */
void *synth__gql_parse_ht_put(parser *p, htab *t, const char *key, void *val);

/* Sets O[K] = V (stolen); false (parser failed) when out of memory. */
bool synth__gql_parse_put(parser *p, json_t *o, const char *k, json_t *v);
/* Appends V (stolen) to A; false (parser failed) when out of memory. */
bool synth__gql_parse_push(parser *p, json_t *a, json_t *v);
/* O["line"], O["column"] = AT. */
bool synth__gql_parse_put_loc(parser *p, json_t *o, loc at);

/* The definitions of the document into p->defs; 0, or -1 (p failed). */
int synth__gql_parse_document(parser *p);
/* "type", "interface", "input", ... for messages. */
const char *synth__gql_parse_kind_word(enum dkind k);

/* --- the lexer (gql_lex.c) --------------------------------------------- */

/* Reads the next token into p->tok. */
int synth__gql_lex_next(parser *p);
/* GraphQL's name characters: [_A-Za-z] first, then [_0-9A-Za-z]. */
bool synth__gql_lex_is_name_start(int c);
bool synth__gql_lex_is_name_cont(int c);
bool synth__gql_lex_is_digit(int c);
/* The code point of the UTF-8 sequence at S (N bytes available) and its
 * length, or -1 if it is not well-formed (overlong, surrogate, too big,
 * truncated). */
long synth__gql_lex_utf8_decode(const unsigned char *s, size_t n, size_t *len);

/* --- the semantic pass (gql_check.c) ----------------------------------- */

/* Passes 1 to 3 over p->defs, building p->root (the model); 0, or -1. */
int synth__gql_check_schema(parser *p);

#endif
