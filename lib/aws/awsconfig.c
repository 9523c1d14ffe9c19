/*
 * AWS credentials and configuration as the AWS CLI v2 resolves them: the
 * environment, the shared credentials and config files, credential_process
 * and source_profile + role_arn. The rules are in awsconfig.h; this file
 * reads top-down:
 *   1. small helpers (secrets, strings, times, URLs);
 *   2. the INI reader (Python configparser's rules, as botocore uses it);
 *   3. profiles: which file sections make a profile, merged lookups;
 *   4. region and endpoints;
 *   5. credentials: environment, files, credential_process, AssumeRole;
 *   6. the entry point, the summary and freeing.
 */
#define _GNU_SOURCE /* pipe2 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "../util/util.h"
#include "awsconfig.h"

extern char **environ;

#define NONE ((size_t)-1)
#define MAX_CHAIN 32               /* source_profile hops */
#define PROCESS_MAX (64 * 1024)    /* bytes of credential_process output */

static const char *const SERVICE_IDS[SYNTH_AWS_NSERVICES] = {
	[SYNTH_AWS_S3] = "s3",
	[SYNTH_AWS_CLOUDFORMATION] = "cloudformation",
	[SYNTH_AWS_SSM] = "ssm",
	[SYNTH_AWS_STS] = "sts",
};

const char *synth__aws_service_id(synth_aws_service s)
{
	return (unsigned)s < SYNTH_AWS_NSERVICES ? SERVICE_IDS[s] : NULL;
}

/* --- 1. helpers ----------------------------------------------------------- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* An environment variable, NULL when unset or empty (as botocore). */
static const char *env_get(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* Copies V into *DST (freeing, and wiping, what was there). */
static int set_str(char **dst, const char *v)
{
	char *d = NULL;
	if (v && !(d = synth_strdup(v))) {
		synth_error_oom();
		return SYNTH_ENOMEM;
	}
	wipe_free(*dst);
	*dst = d;
	return 0;
}

/* Takes S (a new string or NULL after a failed allocation) into *DST. */
static int take_str(char **dst, char *s)
{
	if (!s) {
		synth_error_oom();
		return SYNTH_ENOMEM;
	}
	free(*dst);
	*dst = s;
	return 0;
}

/*
 * A value as it may be quoted in a message: only short printable ASCII
 * without spaces. Anything else (a value that ran over several lines, say,
 * and may have swallowed a secret) is not shown.
 */
static const char *shown(const char *v)
{
	size_t n = 0;
	for (const char *p = v; *p; p++, n++)
		if (!isgraph((unsigned char)*p) || n >= 100)
			return "(not shown)";
	return n ? v : "(empty)";
}

/* A credential value: non-empty, no white space or control characters. */
static bool valid_cred(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/*
 * ISO 8601 / RFC 3339 date-time, as STS and credential processes write
 * it: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM|+HHMM|-HHMM).
 */
static bool parse_time(const char *s, time_t *out)
{
	size_t n = strlen(s);
	if (n < 20 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) ||
	    s[7] != '-' || !all_digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !all_digits(s + 11, 2) || s[13] != ':' || !all_digits(s + 14, 2) || s[16] != ':' ||
	    !all_digits(s + 17, 2))
		return false;
	struct tm tm = {0};
	tm.tm_year = num(s, 4) - 1900;
	tm.tm_mon = num(s + 5, 2) - 1;
	tm.tm_mday = num(s + 8, 2);
	tm.tm_hour = num(s + 11, 2);
	tm.tm_min = num(s + 14, 2);
	tm.tm_sec = num(s + 17, 2);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		const char *f = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == f)
			return false;
	}
	long offset = 0;
	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		/* UTC */
	} else if ((*p == '+' || *p == '-') && all_digits(p + 1, 2)) {
		const char *m = p + 3;
		if (*m == ':')
			m++;
		if (strlen(m) != 2 || !all_digits(m, 2))
			return false;
		int oh = num(p + 1, 2), om = num(m, 2);
		if (oh > 23 || om > 59)
			return false;
		offset = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
	} else {
		return false;
	}
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = t - offset;
	return true;
}

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A region name: botocore's shape ('-' and letters or digits, 1..63
 * characters, starting and ending with a letter or digit), in lower case
 * only: every AWS region is, and "US-EAST-1" would go into host names and
 * into the signature's scope, which AWS compares as written. */
static bool valid_region(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 63 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* http:// or https://, a host name or [IPv6] address, an optional port,
 * then an optional path / query; no user information, no white space. */
static bool valid_url(const char *u)
{
	const char *p;
	if (strncasecmp(u, "https://", 8) == 0)
		p = u + 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		p = u + 7;
	else
		return false;
	const char *h = p;
	if (*p == '[') {
		p++;
		while (isxdigit((unsigned char)*p) || *p == ':' || *p == '.')
			p++;
		if (*p != ']' || p == h + 1)
			return false;
		p++;
	} else {
		while (isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_')
			p++;
		if (p == h)
			return false;
	}
	if (*p == ':') {
		const char *d = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == d || p - d > 5 || num(d, (size_t)(p - d)) > 65535)
			return false;
	}
	if (*p && *p != '/' && *p != '?')
		return false;
	for (; *p; p++)
		if (!isgraph((unsigned char)*p))
			return false;
	return true;
}

/* --- 2. the INI reader ---------------------------------------------------- */

typedef struct ini_entry {
	char *key;    /* lowercase */
	char *subkey; /* nested key (lowercase) or NULL */
	char *value;
	unsigned line;
} ini_entry;

typedef struct ini_section {
	char *name; /* as written, trimmed */
	unsigned line;
	ini_entry *entries;
	size_t n, cap;
} ini_section;

struct synth_aws_ini {
	char *path;
	ini_section *sections;
	size_t n, cap;
};

void synth__aws_ini_free(synth_aws_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++) {
		ini_section *s = &ini->sections[i];
		for (size_t j = 0; j < s->n; j++) {
			free(s->entries[j].key);
			free(s->entries[j].subkey);
			wipe_free(s->entries[j].value);
		}
		free(s->entries);
		free(s->name);
	}
	free(ini->sections);
	free(ini->path);
	free(ini);
}

static int ini_error(const synth_aws_ini *ini, unsigned line, const char *what)
{
	return synth_error_setf(SYNTH_EINVALID, "%s:%u: %s", ini->path, line, what);
}

/* Adds an entry to section S, taking KEY, SUBKEY and VALUE (freed on
 * failure). Returns its index or NONE. */
static size_t section_add(ini_section *s, char *key, char *subkey, char *value, unsigned line)
{
	if (!key || !value || synth_array_grow((void **)&s->entries, &s->n, &s->cap, sizeof *s->entries) < 0) {
		free(key);
		free(subkey);
		wipe_free(value);
		return NONE;
	}
	s->entries[s->n] = (ini_entry){key, subkey, value, line};
	return s->n++;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* S..E trimmed into a new string (NULL on allocation failure). */
static char *trimmed(const char *s, const char *e)
{
	while (s < e && is_ws(*s))
		s++;
	while (e > s && is_ws(e[-1]))
		e--;
	return dup_n(s, (size_t)(e - s));
}

/* Appends "\n" x (1 + BLANKS) and S (N bytes) to *VALUE, wiping the old one. */
static bool value_append(char **value, size_t blanks, const char *s, size_t n)
{
	size_t old = strlen(*value);
	char *v = malloc(old + blanks + 1 + n + 1);
	if (!v)
		return false;
	memcpy(v, *value, old);
	memset(v + old, '\n', blanks + 1);
	memcpy(v + old + blanks + 1, s, n);
	v[old + blanks + 1 + n] = '\0';
	wipe_free(*value);
	*value = v;
	return true;
}

int synth__aws_ini_parse(synth_aws_ini **out, const char *path, const char *text, size_t len)
{
	*out = NULL;
	synth_aws_ini *ini = calloc(1, sizeof *ini);
	if (!ini || !(ini->path = synth_strdup(path ? path : "(config)"))) {
		free(ini);
		return synth_error_oom();
	}
	size_t pos = 0;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	unsigned lineno = 0;
	size_t sec = NONE;      /* current section */
	size_t entry = NONE;    /* current key, whose value may continue */
	size_t opt_indent = 0;  /* indentation of the current key's line */
	size_t blanks = 0;      /* blank lines since the last line of the value */
	bool nested = false;    /* the current key's value is a nested block */
	int rc = 0;

	while (pos < len) {
		size_t start = pos;
		while (pos < len && text[pos] != '\n' && text[pos] != '\r')
			pos++;
		size_t end = pos;
		if (pos < len)
			pos += (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n') ? 2 : 1;
		lineno++;
		const char *l = text + start;
		size_t n = end - start;
		if (memchr(l, '\0', n)) {
			rc = ini_error(ini, lineno, "NUL byte in the file");
			goto fail;
		}
		size_t indent = 0;
		while (indent < n && is_ws(l[indent]))
			indent++;
		size_t e = n;
		while (e > indent && is_ws(l[e - 1]))
			e--;
		const char *s = l + indent;
		size_t sn = e - indent;
		if (sn == 0) {
			if (entry != NONE)
				blanks++;
			continue;
		}
		if (*s == '#' || *s == ';')
			continue; /* a comment never ends a value */

		if (entry != NONE && indent > opt_indent) {
			/* A continuation line of the current key. */
			ini_section *cs = &ini->sections[sec];
			if (nested) {
				const char *eq = memchr(s, '=', sn);
				if (!eq) {
					rc = ini_error(ini, lineno,
						       "expected 'key = value' in an indented block");
					goto fail;
				}
				char *k = trimmed(s, eq), *v = trimmed(eq + 1, s + sn);
				if (k && !*k) {
					free(k);
					wipe_free(v);
					rc = ini_error(ini, lineno, "a nested setting without a name");
					goto fail;
				}
				if (k)
					lower(k);
				char *parent = synth_strdup(cs->entries[entry].key);
				if (section_add(cs, parent, k, v, lineno) == NONE) {
					rc = synth_error_oom();
					goto fail;
				}
			} else if (!value_append(&cs->entries[entry].value, blanks, s, sn)) {
				rc = synth_error_oom();
				goto fail;
			}
			blanks = 0;
			continue;
		}
		entry = NONE;
		blanks = 0;
		opt_indent = indent;

		if (*s == '[') {
			const char *rb = NULL;
			for (const char *p = s + sn; p > s + 1; p--)
				if (p[-1] == ']') {
					rb = p - 1;
					break;
				}
			if (!rb) {
				rc = ini_error(ini, lineno, "section header without a closing ']'");
				goto fail;
			}
			char *name = trimmed(s + 1, rb);
			if (!name || synth_array_grow((void **)&ini->sections, &ini->n, &ini->cap,
						    sizeof *ini->sections) < 0) {
				free(name);
				rc = synth_error_oom();
				goto fail;
			}
			if (!*name) {
				free(name);
				rc = ini_error(ini, lineno, "empty section name");
				goto fail;
			}
			ini->sections[ini->n] = (ini_section){.name = name, .line = lineno};
			sec = ini->n++;
			continue;
		}
		if (sec == NONE) {
			rc = ini_error(ini, lineno, "a setting before the first [section]");
			goto fail;
		}
		const char *d = s;
		while (d < s + sn && *d != '=' && *d != ':')
			d++;
		if (d == s + sn) {
			rc = ini_error(ini, lineno,
				       "expected 'key = value', a [section] header or a comment");
			goto fail;
		}
		if (d == s) {
			rc = ini_error(ini, lineno, "a setting without a name");
			goto fail;
		}
		char *k = trimmed(s, d), *v = trimmed(d + 1, s + sn);
		if (k)
			lower(k);
		entry = section_add(&ini->sections[sec], k, NULL, v, lineno);
		if (entry == NONE) {
			rc = synth_error_oom();
			goto fail;
		}
		nested = !*ini->sections[sec].entries[entry].value;
	}
	*out = ini;
	return 0;
fail:
	synth__aws_ini_free(ini);
	return rc;
}

static const ini_entry *section_lookup(const ini_section *s, const char *key, const char *subkey)
{
	for (size_t i = s->n; i-- > 0;) {
		const ini_entry *e = &s->entries[i];
		if (strcmp(e->key, key) != 0)
			continue;
		if (subkey ? e->subkey && strcmp(e->subkey, subkey) == 0 : !e->subkey)
			return e;
	}
	return NULL;
}

typedef bool (*section_match)(const char *name, const char *want);

/* The last KEY (/ SUBKEY) in the last section matching WANT. */
static const ini_entry *ini_lookup(const synth_aws_ini *ini, section_match match, const char *want,
				   const char *key, const char *subkey, const ini_section **where)
{
	if (!ini)
		return NULL;
	for (size_t i = ini->n; i-- > 0;) {
		if (!match(ini->sections[i].name, want))
			continue;
		const ini_entry *e = section_lookup(&ini->sections[i], key, subkey);
		if (e) {
			if (where)
				*where = &ini->sections[i];
			return e;
		}
	}
	return NULL;
}

static bool ini_has(const synth_aws_ini *ini, section_match match, const char *want)
{
	for (size_t i = 0; ini && i < ini->n; i++)
		if (match(ini->sections[i].name, want))
			return true;
	return false;
}

static bool match_exact(const char *name, const char *want)
{
	return strcmp(name, want) == 0;
}

const char *synth__aws_ini_get(const synth_aws_ini *ini, const char *section, const char *key,
			       const char *subkey, unsigned *line)
{
	const ini_entry *e = ini_lookup(ini, match_exact, section, key, subkey, NULL);
	if (e && line)
		*line = e->line;
	return e ? e->value : NULL;
}

/* --- 3. profiles ---------------------------------------------------------- */

/* NAME is "<KIND> <WANT>": any white space between, WANT alone or quoted
 * (botocore splits the name like a shell: [profile "my dev"]). */
static bool match_kind(const char *name, const char *kind, const char *want)
{
	size_t k = strlen(kind);
	if (strncmp(name, kind, k) != 0 || !is_ws(name[k]))
		return false;
	const char *p = name + k;
	while (is_ws(*p))
		p++;
	size_t n = strlen(p);
	if (n >= 2 && (p[0] == '"' || p[0] == '\'') && p[n - 1] == p[0]) {
		p++;
		n -= 2;
	} else {
		for (size_t i = 0; i < n; i++)
			if (is_ws(p[i]))
				return false;
	}
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* A config file section of profile WANT: [profile WANT], or [default]. */
static bool match_config_profile(const char *name, const char *want)
{
	if (strcmp(want, "default") == 0 && strcmp(name, "default") == 0)
		return true;
	return match_kind(name, "profile", want);
}

static bool match_services(const char *name, const char *want)
{
	return match_kind(name, "services", want);
}

typedef struct resolver {
	const synth_awsconfig_options *opts;
	synth_awsconfig *cfg;
	synth_aws_ini *cred, *conf; /* NULL: not read (see the notes) */
	const char *cred_note, *conf_note; /* "" or why not read: " (no such file)" */
	time_t now;
} resolver;

/* A setting found in a file. */
typedef struct found {
	const char *value;
	const char *path;
	const char *section;
	unsigned line;
} found;

static bool found_in(found *f, const synth_aws_ini *ini, const ini_section *s, const ini_entry *e)
{
	if (!e)
		return false;
	*f = (found){e->value, ini->path, s->name, e->line};
	return true;
}

/* KEY of PROFILE: the credentials file's [PROFILE] first, then the config
 * file's section (botocore merges the two that way). */
static bool prof_get(const resolver *r, const char *profile, const char *key, found *f)
{
	const ini_section *s = NULL;
	const ini_entry *e = ini_lookup(r->cred, match_exact, profile, key, NULL, &s);
	if (e)
		return found_in(f, r->cred, s, e);
	e = ini_lookup(r->conf, match_config_profile, profile, key, NULL, &s);
	return found_in(f, r->conf, s, e);
}

static char *where(const found *f)
{
	return synth_asprintf("%s [%s]", f->path, f->section);
}

static bool profile_exists(const resolver *r, const char *profile)
{
	return ini_has(r->cred, match_exact, profile) ||
	       ini_has(r->conf, match_config_profile, profile);
}

/* "<file> [section]" and the file's NOTE (" (no such file)", or ""). */
static void put_place(synth_buf *b, const char *path, const char *note, bool config,
		      const char *profile)
{
	if (config)
		synth_buf_printf(b, "%s [%s%s]", path, strcmp(profile, "default") ? "profile " : "",
				  profile);
	else
		synth_buf_printf(b, "%s [%s]", path, profile);
	synth_buf_puts(b, note);
}

/* --- 4. region and endpoints ---------------------------------------------- */

static int resolve_region(resolver *r)
{
	synth_awsconfig *cfg = r->cfg;
	const char *v = NULL, *src = NULL;
	char *src_owned = NULL;
	found f;
	if (r->opts->region && *r->opts->region) {
		v = r->opts->region;
		src = "--region";
	} else if ((v = env_get("AWS_REGION"))) {
		src = "AWS_REGION";
	} else if ((v = env_get("AWS_DEFAULT_REGION"))) {
		src = "AWS_DEFAULT_REGION";
	} else if (prof_get(r, cfg->profile, "region", &f)) {
		v = f.value;
		if (!(src_owned = where(&f)))
			return synth_error_oom();
		src = src_owned;
	} else {
		synth_buf b = SYNTH_BUF_INIT;
		synth_buf_puts(&b, "no AWS region: no --region, AWS_REGION or AWS_DEFAULT_REGION, "
				    "and no region in ");
		put_place(&b, cfg->config_file, r->conf_note, true, cfg->profile);
		synth_buf_puts(&b, " or ");
		put_place(&b, cfg->credentials_file, r->cred_note, false, cfg->profile);
		char *msg = synth_buf_detach(&b);
		if (!msg)
			return synth_error_oom();
		synth_error_setf(SYNTH_ENOTFOUND, "%s", msg);
		free(msg);
		return SYNTH_ENOTFOUND;
	}
	int rc = 0;
	if (!valid_region(v))
		rc = synth_error_setf(SYNTH_EINVALID,
				      "invalid AWS region \"%s\" (from %s): expected lower-case "
				      "letters, digits and '-', like us-east-1",
				      shown(v), src);
	else if (set_str(&cfg->region, v) < 0 || set_str(&cfg->region_source, src) < 0)
		rc = SYNTH_ENOMEM;
	free(src_owned);
	return rc;
}

/*
 * AWS_MAX_ATTEMPTS, else the profile's max_attempts: the attempts a request
 * gets, the first included. botocore takes what Python's int() takes and
 * refuses below 1 ("abc" stops it with a ValueError); synth takes plain
 * digits, refuses the same, and refuses more than MAX_ATTEMPTS, which with
 * backoff would retry for hours. 0 when neither is set.
 */
#define MAX_ATTEMPTS 100

static int resolve_max_attempts(resolver *r)
{
	synth_awsconfig *cfg = r->cfg;
	const char *v = getenv("AWS_MAX_ATTEMPTS");
	char *src = NULL;
	found f;
	if (v) {
		src = synth_strdup("AWS_MAX_ATTEMPTS");
	} else if (prof_get(r, cfg->profile, "max_attempts", &f)) {
		v = f.value;
		src = synth_asprintf("%s:%u: max_attempts of profile %s", f.path, f.line,
				     cfg->profile);
	} else {
		return 0;
	}
	if (!src)
		return synth_error_oom();
	while (is_ws(*v))
		v++;
	const char *d = *v == '+' ? v + 1 : v;
	size_t n = 0;
	while (d[n] >= '0' && d[n] <= '9')
		n++;
	const char *end = d + n;
	while (is_ws(*end))
		end++;
	long value = n > 0 && n <= 4 && !*end ? strtol(d, NULL, 10) : -1;
	int rc = 0;
	if (value < 1 || value > MAX_ATTEMPTS)
		rc = synth_error_setf(SYNTH_EINVALID,
				      "%s is \"%s\": expected a whole number of attempts from 1 "
				      "to %d (the first try included; the default is 3)",
				      src, shown(v), MAX_ATTEMPTS);
	else
		cfg->max_attempts = (int)value;
	free(src);
	return rc;
}

/* "true" (any case) is true, anything else false: botocore's rule. */
static bool ignore_configured_endpoints(const resolver *r)
{
	const char *e = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	if (e && *e)
		return strcasecmp(e, "true") == 0;
	found f;
	return prof_get(r, r->cfg->profile, "ignore_configured_endpoint_urls", &f) &&
	       strcasecmp(f.value, "true") == 0;
}

static int resolve_endpoints(resolver *r)
{
	synth_awsconfig *cfg = r->cfg;
	bool ignore = ignore_configured_endpoints(r);
	found svc = {0}, f;
	bool has_svc = !ignore && prof_get(r, cfg->profile, "services", &svc);
	if (has_svc && !ini_has(r->conf, match_services, svc.value))
		return synth_error_setf(SYNTH_ENOTFOUND,
					"%s:%u: [%s] names services \"%s\", but %s has no "
					"[services %s] section",
					svc.path, svc.line, svc.section, shown(svc.value),
					cfg->config_file, shown(svc.value));
	for (int i = 0; i < SYNTH_AWS_NSERVICES; i++) {
		const char *id = SERVICE_IDS[i];
		const char *v = NULL;
		char *src = NULL;
		char env_name[64];
		snprintf(env_name, sizeof env_name, "AWS_ENDPOINT_URL_%s", id);
		for (char *p = env_name; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		const ini_section *s = NULL;
		const ini_entry *se = has_svc ? ini_lookup(r->conf, match_services, svc.value, id,
							   "endpoint_url", &s)
					      : NULL;
		if (r->opts->endpoint_url && *r->opts->endpoint_url) {
			v = r->opts->endpoint_url;
			src = synth_strdup("--endpoint-url");
		} else if (!ignore && (v = env_get(env_name))) {
			src = synth_strdup(env_name);
		} else if (!ignore && (v = env_get("AWS_ENDPOINT_URL"))) {
			src = synth_strdup("AWS_ENDPOINT_URL");
		} else if (found_in(&f, r->conf, s, se)) {
			v = f.value;
			src = synth_asprintf("%s [%s] %s.endpoint_url", f.path, f.section, id);
		} else if (!ignore && prof_get(r, cfg->profile, "endpoint_url", &f)) {
			v = f.value;
			src = where(&f);
		} else {
			bool cn = strncmp(cfg->region, "cn-", 3) == 0;
			if (take_str(&cfg->endpoint[i],
				     synth_asprintf("https://%s.%s.amazonaws.com%s", id, cfg->region,
						     cn ? ".cn" : "")) < 0 ||
			    set_str(&cfg->endpoint_source[i], "default") < 0)
				return SYNTH_ENOMEM;
			continue;
		}
		if (!src)
			return synth_error_oom();
		if (!valid_url(v)) {
			synth_error_setf(SYNTH_EINVALID,
					 "invalid endpoint URL \"%s\" (from %s): expected http:// or "
					 "https://, a host and an optional port and path",
					 shown(v), src);
			free(src);
			return SYNTH_EINVALID;
		}
		cfg->endpoint_source[i] = src;
		if (set_str(&cfg->endpoint[i], v) < 0)
			return SYNTH_ENOMEM;
	}
	return 0;
}

/* --- 5. credentials ------------------------------------------------------- */

void synth__aws_credentials_clear(synth_aws_credentials *c)
{
	if (!c)
		return;
	free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	free(c->expiration);
	free(c->account_id);
	free(c->source);
	*c = (synth_aws_credentials){0};
}

/*
 * Fills OUT from the given strings (copied) and SOURCE (taken). WHAT names
 * the origin in messages. An expiration must parse and lie in the future.
 */
static int creds_fill(const resolver *r, synth_aws_credentials *out, const char *id,
		      const char *secret, const char *token, const char *expiration,
		      const char *account, char *source)
{
	synth_aws_credentials c = {0};
	c.source = source;
	int rc = SYNTH_ENOMEM;
	if (!source || set_str(&c.access_key_id, id) < 0 || set_str(&c.secret_access_key, secret) < 0 ||
	    set_str(&c.session_token, token && *token ? token : NULL) < 0 ||
	    set_str(&c.expiration, expiration && *expiration ? expiration : NULL) < 0 ||
	    set_str(&c.account_id, account && *account ? account : NULL) < 0) {
		rc = synth_error_oom();
		goto fail;
	}
	if (c.session_token && !valid_cred(c.session_token)) {
		rc = synth_error_setf(SYNTH_EINVALID,
				      "the session token from %s contains white space or control "
				      "characters",
				      source);
		goto fail;
	}
	if (c.expiration) {
		if (!parse_time(c.expiration, &c.expires)) {
			rc = synth_error_setf(SYNTH_EINVALID,
					      "the expiration \"%s\" of the credentials from %s is not "
					      "an ISO 8601 time (like 2030-01-02T03:04:05Z)",
					      shown(c.expiration), source);
			goto fail;
		}
		if (c.expires <= r->now) {
			rc = synth_error_setf(SYNTH_EINVALID,
					      "the credentials from %s expired at %s", source,
					      shown(c.expiration));
			goto fail;
		}
	}
	synth__aws_credentials_clear(out);
	*out = c;
	return 0;
fail:
	synth__aws_credentials_clear(&c);
	return rc;
}

/* AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY: partial credentials. */
static int env_partial(void)
{
	if (env_get("AWS_ACCESS_KEY_ID") && !env_get("AWS_SECRET_ACCESS_KEY"))
		return synth_error_setf(SYNTH_EINVALID,
					"AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	return 0;
}

static int env_creds(const resolver *r, synth_aws_credentials *out, bool *found_env)
{
	*found_env = false;
	const char *id = env_get("AWS_ACCESS_KEY_ID");
	const char *secret = env_get("AWS_SECRET_ACCESS_KEY");
	if (!id)
		return 0;
	int rc = env_partial();
	if (rc < 0)
		return rc;
	if (!valid_cred(id))
		return synth_error_setf(SYNTH_EINVALID,
					"AWS_ACCESS_KEY_ID contains white space or control characters");
	if (!valid_cred(secret))
		return synth_error_setf(SYNTH_EINVALID, "AWS_SECRET_ACCESS_KEY contains white space "
							"or control characters");
	const char *token = env_get("AWS_SESSION_TOKEN");
	if (!token)
		token = env_get("AWS_SECURITY_TOKEN");
	rc = creds_fill(r, out, id, secret, token, env_get("AWS_CREDENTIAL_EXPIRATION"),
			env_get("AWS_ACCOUNT_ID"), synth_strdup("environment"));
	if (rc == 0)
		*found_env = true;
	return rc;
}

/*
 * The static key pair of PROFILE in one file (sections matched by MATCH)
 * into *ID and *SECRET (NULL when absent), *S the key id's section. Half a
 * pair is an error naming the file, line, profile and the missing key,
 * never a value.
 */
static int static_pair(const synth_aws_ini *ini, section_match match, const char *profile,
		       const ini_entry **id, const ini_entry **secret, const ini_section **s)
{
	const ini_section *ss = NULL;
	*s = NULL;
	*id = ini_lookup(ini, match, profile, "aws_access_key_id", NULL, s);
	*secret = ini_lookup(ini, match, profile, "aws_secret_access_key", NULL, &ss);
	if (*id && !*secret)
		return synth_error_setf(SYNTH_EINVALID,
					"%s:%u: partial credentials for profile %s: [%s] has "
					"aws_access_key_id but no aws_secret_access_key",
					ini->path, (*id)->line, profile, (*s)->name);
	if (!*id && *secret)
		return synth_error_setf(SYNTH_EINVALID,
					"%s:%u: partial credentials for profile %s: [%s] has "
					"aws_secret_access_key but no aws_access_key_id",
					ini->path, (*secret)->line, profile, ss->name);
	return 0;
}

/* Static keys of PROFILE in one file (sections matched by MATCH). */
static int file_creds(const resolver *r, const synth_aws_ini *ini, section_match match,
		      const char *profile, synth_aws_credentials *out, bool *found_file)
{
	*found_file = false;
	const ini_section *s = NULL;
	const ini_entry *id, *secret;
	int prc = static_pair(ini, match, profile, &id, &secret, &s);
	if (prc < 0 || !id)
		return prc;
	if (!valid_cred(id->value))
		return synth_error_setf(SYNTH_EINVALID,
					"%s:%u: aws_access_key_id is empty or contains white space "
					"or control characters",
					ini->path, id->line);
	if (!valid_cred(secret->value))
		return synth_error_setf(SYNTH_EINVALID,
					"%s:%u: aws_secret_access_key is empty or contains white "
					"space or control characters",
					ini->path, secret->line);
	const ini_entry *token = ini_lookup(ini, match, profile, "aws_session_token", NULL, NULL);
	if (!token)
		token = ini_lookup(ini, match, profile, "aws_security_token", NULL, NULL);
	const ini_entry *account = ini_lookup(ini, match, profile, "aws_account_id", NULL, NULL);
	int rc = creds_fill(r, out, id->value, secret->value, token ? token->value : NULL, NULL,
			    account ? account->value : NULL,
			    synth_asprintf("%s [%s]", ini->path, s->name));
	if (rc == 0)
		*found_file = true;
	return rc;
}

/* Moves FD out of 0..2 (so dup2 onto stdout cannot be a no-op) and makes
 * it close-on-exec. */
static int high_fd(int fd)
{
	if (fd > 2)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

/* Runs CMD with /bin/sh -c; stdout into *OUT (PROCESS_MAX bytes at most;
 * *OVER set if it printed more), stdin and stderr inherited. */
static int run_capture(const char *cmd, const char *what, char **out, size_t *len, bool *over,
		       int *status)
{
	*out = NULL;
	*len = 0;
	*over = false;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return synth_error_setf(SYNTH_EIO, "cannot run %s: pipe: %s", what, strerror(errno));
	fds[0] = high_fd(fds[0]);
	fds[1] = high_fd(fds[1]);
	if (fds[0] < 0 || fds[1] < 0) {
		int e = errno;
		if (fds[0] >= 0)
			close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		return synth_error_setf(SYNTH_EIO, "cannot run %s: %s", what, strerror(e));
	}
	char *buf = malloc(PROCESS_MAX + 1);
	if (!buf) {
		close(fds[0]);
		close(fds[1]);
		return synth_error_oom();
	}
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char sh[] = "sh", dash_c[] = "-c";
	char *argv[] = {sh, dash_c, (char *)cmd, NULL};
	int e = posix_spawn_file_actions_init(&fa);
	if (e == 0) {
		e = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
		if (e == 0)
			e = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
	}
	close(fds[1]);
	if (e) {
		close(fds[0]);
		free(buf);
		if (e == ENOMEM)
			return synth_error_oom();
		return synth_error_setf(SYNTH_ERROR, "cannot run %s: %s", what, strerror(e));
	}
	size_t n = 0;
	char scratch[4096];
	for (;;) {
		ssize_t got = n < PROCESS_MAX ? read(fds[0], buf + n, PROCESS_MAX - n)
					      : read(fds[0], scratch, sizeof scratch);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (n < PROCESS_MAX)
			n += (size_t)got;
		else
			*over = true;
	}
	close(fds[0]);
	OPENSSL_cleanse(scratch, sizeof scratch);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			int we = errno;
			OPENSSL_cleanse(buf, n);
			free(buf);
			return synth_error_setf(SYNTH_ERROR, "cannot wait for %s: %s", what,
						strerror(we));
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Wipes a JSON string's bytes in place (jansson owns the buffer). */
static void json_wipe(json_t *v)
{
	if (json_is_string(v))
		OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

static const char *json_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* credential_process of PROFILE (command in F). */
static int process_creds(const resolver *r, const char *profile, const found *f,
			 synth_aws_credentials *out)
{
	char *what = synth_asprintf("credential_process of profile %s", profile);
	if (!what)
		return synth_error_oom();
	char *text = NULL;
	size_t len = 0;
	bool over = false;
	int status = 0;
	int rc = run_capture(f->value, what, &text, &len, &over, &status);
	if (rc < 0)
		goto done;
	if (WIFSIGNALED(status)) {
		rc = synth_error_setf(SYNTH_ERROR, "%s (%s:%u) was killed by signal %d", what,
				      f->path, f->line, WTERMSIG(status));
		goto done;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = synth_error_setf(SYNTH_ERROR, "%s (%s:%u) exited with status %d", what, f->path,
				      f->line, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto done;
	}
	if (over) {
		rc = synth_error_setf(SYNTH_EINVALID, "%s printed more than %d bytes", what,
				      PROCESS_MAX);
		goto done;
	}
	json_error_t jerr;
	json_t *j = json_loadb(text, len, 0, &jerr);
	/* A failed allocation reported as such, or (when setting up the lexer)
	 * as an error with no text and no position. Elsewhere jansson may
	 * report one as a syntax error, or drop a member. */
	if (!j && (json_error_code(&jerr) == json_error_out_of_memory ||
		   (jerr.line < 0 && !jerr.text[0]))) {
		rc = synth_error_oom();
		goto done;
	}
	if (!j) {
		/* jerr.text may quote the output: only the position is shown. */
		rc = synth_error_setf(SYNTH_EINVALID,
				      "%s did not print a JSON object (error at line %d, column %d)",
				      what, jerr.line, jerr.column);
		goto done;
	}
	json_t *version = json_object_get(j, "Version");
	const char *id = json_str(j, "AccessKeyId"), *secret = json_str(j, "SecretAccessKey");
	if (!json_is_object(j)) {
		rc = synth_error_setf(SYNTH_EINVALID, "%s did not print a JSON object", what);
	} else if (!version || !json_is_number(version) || json_number_value(version) != 1) {
		rc = synth_error_setf(SYNTH_EINVALID, "%s printed %s; only Version 1 is supported",
				      what, version ? "an unsupported Version" : "no Version");
	} else if (!valid_cred(id)) {
		rc = synth_error_setf(SYNTH_EINVALID, "%s printed %s AccessKeyId", what,
				      id ? "an empty or malformed" : "no");
	} else if (!valid_cred(secret)) {
		rc = synth_error_setf(SYNTH_EINVALID, "%s printed %s SecretAccessKey", what,
				      secret ? "an empty or malformed" : "no");
	} else {
		char *source = synth_strdup(what);
		rc = creds_fill(r, out, id, secret, json_str(j, "SessionToken"),
				json_str(j, "Expiration"), json_str(j, "AccountId"), source);
		if (rc == 0 && !out->account_id) {
			found acc;
			if (prof_get(r, profile, "aws_account_id", &acc))
				rc = set_str(&out->account_id, acc.value);
		}
	}
	json_wipe(json_object_get(j, "SecretAccessKey"));
	json_wipe(json_object_get(j, "SessionToken"));
	json_decref(j);
done:
	if (text) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	free(what);
	return rc;
}

typedef struct visit {
	const char *names[MAX_CHAIN];
	size_t n;
} visit;

static bool has_key(const resolver *r, const char *profile, const char *key)
{
	found f;
	return prof_get(r, profile, key, &f);
}

static bool has_static(const resolver *r, const char *profile)
{
	return has_key(r, profile, "aws_access_key_id") ||
	       has_key(r, profile, "aws_secret_access_key");
}

static int profile_creds(resolver *r, const char *profile, visit *v, bool allow_role,
			 synth_aws_credentials *out, bool *found_any);

/* "not in <credentials> [p], not in <config> [profile p]" (caller frees). */
static char *looked_at(const resolver *r, const char *profile)
{
	synth_buf b = SYNTH_BUF_INIT;
	synth_buf_puts(&b, "not in ");
	put_place(&b, r->cfg->credentials_file, r->cred_note, false, profile);
	synth_buf_puts(&b, ", not in ");
	put_place(&b, r->cfg->config_file, r->conf_note, true, profile);
	return synth_buf_detach(&b);
}

/* If the current error message contains SECRET (a callback's message
 * might), blank it out. */
static void scrub_error(const char *secret)
{
	if (!secret || !*secret)
		return;
	const char *m = synth_error_last()->message;
	if (strstr(m, secret))
		synth_error_setf(synth_error_last()->code,
				 "(message withheld: it contained a secret)");
}

/* The source credentials of role profile PROFILE from its source_profile
 * SP (a chain followed through V, cycles and depth checked) into *SRC. */
static int source_profile_creds(resolver *r, const char *profile, const found *sp, visit *v,
				synth_aws_credentials *src)
{
	const char *s = sp->value;
	if (!profile_exists(r, s))
		return synth_error_setf(SYNTH_ENOTFOUND,
					"%s:%u: source_profile \"%s\" of profile %s does not "
					"exist in %s or %s",
					sp->path, sp->line, shown(s), profile,
					r->cfg->credentials_file, r->cfg->config_file);
	bool seen = false;
	for (size_t i = 0; i < v->n; i++)
		seen = seen || strcmp(v->names[i], s) == 0;
	/* A profile may name itself to take its own static keys. */
	if (seen && (strcmp(s, profile) != 0 || !has_static(r, s))) {
		synth_buf b = SYNTH_BUF_INIT;
		synth_buf_puts(&b, "source_profile cycle: ");
		for (size_t i = 0; i < v->n; i++)
			synth_buf_printf(&b, "%s -> ", v->names[i]);
		synth_buf_puts(&b, s);
		char *msg = synth_buf_detach(&b);
		if (!msg)
			return synth_error_oom();
		synth_error_setf(SYNTH_ECYCLE, "%s", msg);
		free(msg);
		return SYNTH_ECYCLE;
	}
	if (v->n == MAX_CHAIN)
		return synth_error_setf(SYNTH_ELIMIT,
					"source_profile chain of profile %s is longer than %d",
					profile, MAX_CHAIN);
	v->names[v->n++] = s;
	bool ok = false;
	/* Static keys win over the source's own role (botocore). */
	bool role = !has_static(r, s) && has_key(r, s, "role_arn");
	int rc = profile_creds(r, s, v, role, src, &ok);
	v->n--;
	if (rc == 0 && !ok)
		rc = SYNTH_ENOTFOUND; /* message set by profile_creds */
	if (rc < 0) {
		char *inner = synth_strdup(synth_error_last()->message);
		if (!inner)
			return synth_error_oom();
		synth_error_setf(rc, "source profile %s of profile %s: %s", s, profile, inner);
		free(inner);
	}
	return rc;
}

/* Credentials of a role profile: source credentials, then AssumeRole. */
static int role_creds(resolver *r, const char *profile, visit *v, synth_aws_credentials *out)
{
	found arn, sp, cs, f;
	prof_get(r, profile, "role_arn", &arn);
	bool has_sp = prof_get(r, profile, "source_profile", &sp);
	bool has_cs = prof_get(r, profile, "credential_source", &cs);
	if (has_sp && has_cs)
		return synth_error_setf(SYNTH_EINVALID,
					"profile %s has both source_profile and credential_source",
					profile);
	if (!has_sp && !has_cs)
		return synth_error_setf(SYNTH_EINVALID,
					"profile %s has role_arn but neither source_profile nor "
					"credential_source",
					profile);
	if (strncmp(arn.value, "arn:", 4) != 0)
		return synth_error_setf(SYNTH_EINVALID, "%s:%u: role_arn of profile %s is not an ARN",
					arn.path, arn.line, profile);
	if (prof_get(r, profile, "mfa_serial", &f))
		return synth_error_setf(SYNTH_EINVALID,
					"profile %s needs an MFA code (mfa_serial), which synth cannot "
					"ask for; use credentials from `aws configure "
					"export-credentials --profile %s`",
					profile, profile);

	synth_aws_credentials src = {0};
	int rc = 0;
	if (has_cs) {
		if (strcmp(cs.value, "Environment") == 0) {
			bool ok = false;
			rc = env_creds(r, &src, &ok);
			if (rc == 0 && !ok)
				rc = synth_error_setf(SYNTH_ENOTFOUND,
						      "profile %s takes its source credentials from the "
						      "environment, but AWS_ACCESS_KEY_ID is not set",
						      profile);
		} else if (strcmp(cs.value, "Ec2InstanceMetadata") == 0 ||
			   strcmp(cs.value, "EcsContainer") == 0) {
			rc = synth_error_setf(SYNTH_EINVALID,
					      "%s:%u: credential_source %s of profile %s is not "
					      "supported by synth (only Environment)",
					      cs.path, cs.line, cs.value, profile);
		} else {
			rc = synth_error_setf(SYNTH_EINVALID,
					      "%s:%u: credential_source \"%s\" of profile %s: expected "
					      "Environment, Ec2InstanceMetadata or EcsContainer",
					      cs.path, cs.line, shown(cs.value), profile);
		}
	} else {
		rc = source_profile_creds(r, profile, &sp, v, &src);
	}
	if (rc < 0)
		goto done;

	if (!r->opts->assume_role) {
		rc = synth_error_setf(SYNTH_ERROR,
				      "profile %s assumes role %s, but no STS client is available",
				      profile, arn.value);
		goto done;
	}
	found sn, ext;
	char *session = NULL;
	if (prof_get(r, profile, "role_session_name", &sn))
		session = synth_strdup(sn.value);
	else
		session = synth_asprintf("synth-session-%lld", (long long)r->now);
	if (!session) {
		rc = synth_error_oom();
		goto done;
	}
	const char *external = prof_get(r, profile, "external_id", &ext) ? ext.value : NULL;
	synth_aws_credentials got = {0};
	synth_error_clear();
	rc = r->opts->assume_role(r->opts->assume_role_ctx, r->cfg, &src, arn.value, session,
				  external, &got);
	free(session);
	if (rc < 0) {
		scrub_error(src.secret_access_key);
		scrub_error(got.secret_access_key);
		const synth_error *e = synth_error_last();
		char *inner = synth_strdup(*e->message ? e->message : "failed");
		if (!inner) {
			rc = synth_error_oom();
		} else {
			rc = synth_error_setf(rc, "assuming role %s for profile %s: %s", arn.value,
					      profile, inner);
			free(inner);
		}
		synth__aws_credentials_clear(&got);
		goto done;
	}
	if (!valid_cred(got.access_key_id) || !valid_cred(got.secret_access_key)) {
		rc = synth_error_setf(SYNTH_EINVALID,
				      "assuming role %s for profile %s returned no usable "
				      "credentials",
				      arn.value, profile);
		synth__aws_credentials_clear(&got);
		goto done;
	}
	rc = creds_fill(r, out, got.access_key_id, got.secret_access_key, got.session_token,
			got.expiration, got.account_id,
			synth_asprintf("role %s (profile %s) assumed with credentials from %s",
					arn.value, profile, src.source));
	synth__aws_credentials_clear(&got);
done:
	synth__aws_credentials_clear(&src);
	return rc;
}

/*
 * The credentials of PROFILE from its own settings, the environment aside:
 * role (when ALLOW_ROLE), credentials file, credential_process, config file.
 * None found: 0 with *FOUND_ANY false and an ENOTFOUND message set that
 * names the places looked at.
 */
static int profile_creds(resolver *r, const char *profile, visit *v, bool allow_role,
			 synth_aws_credentials *out, bool *found_any)
{
	*found_any = false;
	found f;
	bool web = has_key(r, profile, "web_identity_token_file");
	if (allow_role && has_key(r, profile, "role_arn") && !web) {
		int rc = role_creds(r, profile, v, out);
		*found_any = rc == 0;
		return rc;
	}
	if (web)
		return synth_error_setf(SYNTH_EINVALID,
					"profile %s uses web_identity_token_file "
					"(AssumeRoleWithWebIdentity), which synth does not support",
					profile);
	if (has_key(r, profile, "sso_session") || has_key(r, profile, "sso_start_url"))
		return synth_error_setf(SYNTH_EINVALID,
					"profile %s uses IAM Identity Center (sso_*), which synth "
					"does not support; run `aws sso login --profile %s` and "
					"`eval \"$(aws configure export-credentials --profile %s "
					"--format env)\"`",
					profile, profile, profile);
	int rc = file_creds(r, r->cred, match_exact, profile, out, found_any);
	if (rc < 0 || *found_any)
		return rc;
	if (prof_get(r, profile, "credential_process", &f)) {
		rc = process_creds(r, profile, &f, out);
		*found_any = rc == 0;
		return rc;
	}
	rc = file_creds(r, r->conf, match_config_profile, profile, out, found_any);
	if (rc < 0 || *found_any)
		return rc;
	char *places = looked_at(r, profile);
	if (!places)
		return synth_error_oom();
	synth_error_setf(SYNTH_ENOTFOUND, "no credentials: %s", places);
	free(places);
	return 0;
}

/*
 * Half a key pair where the credentials will be looked for (the
 * environment, then the profile's credentials file section, then its config
 * file section unless a credential_process comes first), checked before
 * the region: botocore finds credentials before it asks for a region, and
 * "no region" would send the user to the wrong fix. Role, web identity and
 * SSO profiles take no static keys of their own: resolve_creds judges them.
 */
static int check_partial(const resolver *r)
{
	const char *p = r->cfg->profile;
	if (!r->opts->profile && env_get("AWS_ACCESS_KEY_ID"))
		return env_partial();
	if (has_key(r, p, "role_arn") || has_key(r, p, "web_identity_token_file") ||
	    has_key(r, p, "sso_session") || has_key(r, p, "sso_start_url"))
		return 0;
	const ini_entry *id, *secret;
	const ini_section *s;
	int rc = static_pair(r->cred, match_exact, p, &id, &secret, &s);
	if (rc < 0 || id || has_key(r, p, "credential_process"))
		return rc;
	return static_pair(r->conf, match_config_profile, p, &id, &secret, &s);
}

static int resolve_creds(resolver *r)
{
	synth_awsconfig *cfg = r->cfg;
	bool explicit = r->opts->profile != NULL;
	bool ok = false;
	int rc;
	if (!explicit) {
		rc = env_creds(r, &cfg->creds, &ok);
		if (rc < 0 || ok)
			return rc;
	}
	visit v = {.names = {cfg->profile}, .n = 1};
	rc = profile_creds(r, cfg->profile, &v, true, &cfg->creds, &ok);
	if (rc < 0 || ok)
		return rc;
	/* Nothing anywhere: say where we looked. */
	char *looked = looked_at(r, cfg->profile);
	if (!looked)
		return synth_error_oom();
	if (explicit)
		synth_error_setf(SYNTH_ENOTFOUND,
				 "no AWS credentials for profile %s (from --profile; the environment "
				 "is not used then): %s",
				 cfg->profile, looked);
	else
		synth_error_setf(SYNTH_ENOTFOUND,
				 "no AWS credentials: not in the environment (AWS_ACCESS_KEY_ID%s), "
				 "%s",
				 env_get("AWS_SECRET_ACCESS_KEY") ? "; AWS_SECRET_ACCESS_KEY is set "
								    "without it"
								  : "",
				 looked);
	free(looked);
	return SYNTH_ENOTFOUND;
}

/* --- 6. entry point, summary, free ---------------------------------------- */

static const char *home_dir(char *buf, size_t size)
{
	const char *h = env_get("HOME");
	if (h)
		return h;
	struct passwd pw, *res = NULL;
	if (getpwuid_r(getuid(), &pw, buf, size, &res) == 0 && res && res->pw_dir)
		return res->pw_dir;
	return "";
}

/* ENV_NAME's value (a leading "~/" is the home directory) or ~/.aws/NAME. */
static char *file_path(const char *env_name, const char *name)
{
	char buf[4096];
	const char *v = env_get(env_name);
	if (v && v[0] == '~' && (v[1] == '/' || !v[1]))
		return synth_asprintf("%s%s", home_dir(buf, sizeof buf), v + 1);
	if (v)
		return synth_strdup(v);
	return synth_asprintf("%s/.aws/%s", home_dir(buf, sizeof buf), name);
}

/*
 * Reads and parses PATH. A missing file or a directory leaves *OUT NULL
 * and says so in *NOTE (for messages; "" when read), as botocore takes
 * neither for a file. Anything else that opens is read: /dev/null is an
 * empty file, and a pipe (AWS_CONFIG_FILE=<(...)) holds a file's text. At
 * most FILE_MAX bytes, so that /dev/zero ends. The text is wiped after
 * parsing (it may hold secrets).
 */
#define FILE_MAX (16u << 20)

static int load_ini(synth_aws_ini **out, const char **note, const char *path)
{
	*out = NULL;
	*note = " (no such file)";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return synth_error_setf(SYNTH_EIO, "cannot read %s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		close(fd);
		*note = " (a directory, not read)";
		return 0;
	}
	*note = "";
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	size_t len = 0;
	char *text = malloc(cap);
	if (!text) {
		close(fd);
		return synth_error_oom();
	}
	int rc = 0;
	for (;;) {
		if (len == cap) { /* the file grew: move to a larger buffer */
			char *t = len < FILE_MAX ? malloc(cap * 2) : NULL;
			if (!t) {
				rc = len < FILE_MAX ? synth_error_oom()
						    : synth_error_setf(SYNTH_EINVALID,
								       "%s is larger than %u MiB: "
								       "not an AWS configuration file",
								       path, FILE_MAX >> 20);
				break;
			}
			memcpy(t, text, len);
			OPENSSL_cleanse(text, len);
			free(text);
			text = t;
			cap *= 2;
		}
		ssize_t n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = synth_error_setf(SYNTH_EIO, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rc == 0)
		rc = synth__aws_ini_parse(out, path, text, len);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int synth__awsconfig_resolve(synth_awsconfig **out, const synth_awsconfig_options *opts)
{
	static const synth_awsconfig_options no_opts = SYNTH_AWSCONFIG_OPTIONS_INIT;
	*out = NULL;
	if (!opts)
		opts = &no_opts;
	resolver r = {.opts = opts, .now = opts->now ? opts->now : time(NULL)};
	synth_awsconfig *cfg = r.cfg = calloc(1, sizeof *cfg);
	if (!cfg)
		return synth_error_oom();
	int rc;
	const char *profile;
	if (opts->profile) {
		profile = opts->profile;
		cfg->profile_source = "--profile";
	} else if ((profile = getenv("AWS_PROFILE"))) {
		/* Set but empty is the AWS CLI's "The config profile () could not
		 * be found", not the default profile: an export that went wrong
		 * should not deploy with other credentials. */
		cfg->profile_source = "AWS_PROFILE";
	} else {
		profile = "default";
		cfg->profile_source = "default";
	}
	if (!*profile) {
		if (opts->profile)
			rc = synth_error_setf(SYNTH_EINVALID, "empty AWS profile name (from %s)",
					      cfg->profile_source);
		else
			rc = synth_error_setf(SYNTH_EINVALID,
					      "AWS_PROFILE is set but empty (the AWS CLI fails too: "
					      "\"The config profile () could not be found\"): unset "
					      "it to use the default profile, or name a profile");
		goto fail;
	}
	if (set_str(&cfg->profile, profile) < 0 ||
	    take_str(&cfg->credentials_file, file_path("AWS_SHARED_CREDENTIALS_FILE",
							 "credentials")) < 0 ||
	    take_str(&cfg->config_file, file_path("AWS_CONFIG_FILE", "config")) < 0) {
		rc = SYNTH_ENOMEM;
		goto fail;
	}
	if ((rc = load_ini(&r.cred, &r.cred_note, cfg->credentials_file)) < 0 ||
	    (rc = load_ini(&r.conf, &r.conf_note, cfg->config_file)) < 0)
		goto fail;
	if (strcmp(cfg->profile_source, "default") != 0 && !profile_exists(&r, profile)) {
		rc = synth_error_setf(SYNTH_ENOTFOUND,
				      "AWS profile \"%s\" (from %s) not found: no [%s] in %s%s, no "
				      "[profile %s] in %s%s",
				      profile, cfg->profile_source, profile, cfg->credentials_file,
				      r.cred_note, profile, cfg->config_file, r.conf_note);
		goto fail;
	}
	if ((rc = check_partial(&r)) < 0 || (rc = resolve_region(&r)) < 0 ||
	    (rc = resolve_endpoints(&r)) < 0 || (rc = resolve_max_attempts(&r)) < 0 ||
	    (rc = resolve_creds(&r)) < 0)
		goto fail;
	synth__aws_ini_free(r.cred);
	synth__aws_ini_free(r.conf);
	*out = cfg;
	return 0;
fail:
	synth__aws_ini_free(r.cred);
	synth__aws_ini_free(r.conf);
	synth__awsconfig_free(cfg);
	return rc;
}

const char *synth__awsconfig_endpoint(const synth_awsconfig *cfg, const char *service_id)
{
	for (int i = 0; i < SYNTH_AWS_NSERVICES; i++)
		if (strcmp(SERVICE_IDS[i], service_id) == 0)
			return cfg->endpoint[i];
	return NULL;
}

char *synth__awsconfig_describe(const synth_awsconfig *cfg)
{
	synth_buf b = SYNTH_BUF_INIT;
	const synth_aws_credentials *c = &cfg->creds;
	size_t n = c->access_key_id ? strlen(c->access_key_id) : 0;
	synth_buf_printf(&b, "profile        %s (%s)\n", cfg->profile, cfg->profile_source);
	synth_buf_printf(&b, "access key     ****************%s (%s)\n",
			  n > 8 ? c->access_key_id + n - 4 : "", c->source ? c->source : "none");
	synth_buf_printf(&b, "session token  %s\n", c->session_token ? "yes" : "no");
	synth_buf_printf(&b, "expires        %s\n", c->expiration ? shown(c->expiration) : "never");
	if (c->account_id)
		synth_buf_printf(&b, "account        %s\n", shown(c->account_id));
	synth_buf_printf(&b, "region         %s (%s)\n", cfg->region, cfg->region_source);
	synth_buf_puts(&b, "endpoints\n");
	for (int i = 0; i < SYNTH_AWS_NSERVICES; i++)
		synth_buf_printf(&b, "  %-14s %s (%s)\n", SERVICE_IDS[i],
				  cfg->endpoint[i] ? cfg->endpoint[i] : "-",
				  cfg->endpoint_source[i] ? cfg->endpoint_source[i] : "-");
	return synth_buf_detach(&b);
}

void synth__awsconfig_free(synth_awsconfig *cfg)
{
	if (!cfg)
		return;
	synth__aws_credentials_clear(&cfg->creds);
	free(cfg->profile);
	free(cfg->credentials_file);
	free(cfg->config_file);
	free(cfg->region);
	free(cfg->region_source);
	for (int i = 0; i < SYNTH_AWS_NSERVICES; i++) {
		free(cfg->endpoint[i]);
		free(cfg->endpoint_source[i]);
	}
	free(cfg);
}
