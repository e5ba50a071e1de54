/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util/beneath.h"
#include "util/buf.h"
#include "util/ere.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/suggest.h"
#include "util/term.h"
#include "util/units.h"

static void test_buf_ceiling(void)
{
	_cleanup_buf_ struct buf b = BUF_INIT(8);

	CHECK(buf_puts(&b, "abcd") == 0);
	CHECK(buf_printf(&b, "%d", 123) == 0);
	CHECK_STREQ(buf_str(&b), "abcd123");
	/* 2 more bytes would pass the ceiling of 8: refused, and the buffer is unchanged */
	CHECK(buf_puts(&b, "xy") == -E2BIG);
	CHECK_STREQ(buf_str(&b), "abcd123");
	CHECK(buf_putc(&b, 'z') == 0);
	CHECK(b.len == 8);
	CHECK(buf_putc(&b, 'z') == -E2BIG);
}

static void test_buf_steal(void)
{
	struct buf b = BUF_INIT(1024);
	_cleanup_free_ char *s = NULL, *empty = NULL;

	CHECK(buf_puts(&b, "hello") == 0);
	s = buf_steal(&b);
	CHECK_STREQ(s, "hello");
	CHECK(b.data == NULL && b.len == 0);
	empty = buf_steal(&b);
	CHECK_STREQ(empty, "");
	CHECK_STREQ(buf_str(&b), "");
}

static void test_error_chain(void)
{
	struct coi_error err = {0};
	int r;

	r = coi_error_set(&err, -ENOENT, "no container '%s'", "c1");
	CHECK(r == -ENOENT);
	r = coi_error_prefix(&err, "starting session");
	CHECK(r == -ENOENT);
	CHECK_STREQ(err.msg, "starting session: no container 'c1'");
	r = coi_error_errno(&err, EACCES, "cannot open '%s'", "/x");
	CHECK(r == -EACCES);
	CHECK_STREQ(err.msg, "cannot open '/x': Permission denied");
	/* positive codes are normalised, NULL err is allowed */
	CHECK(coi_error_set(NULL, EPERM, "x") == -EPERM);
	coi_error_clear(&err);
	CHECK(err.code == 0 && err.msg[0] == '\0');
}

static void test_path_clean(void)
{
	_cleanup_free_ char *a = path_clean("/a//b/./c/../d/");
	_cleanup_free_ char *b = path_clean("/../..");
	_cleanup_free_ char *c = path_join("/x/", "/y");
	_cleanup_free_ char *d = path_join("/", "y");

	CHECK_STREQ(a, "/a/b/d");
	CHECK_STREQ(b, "/");
	CHECK_STREQ(c, "/x/y");
	CHECK_STREQ(d, "/y");
	CHECK(path_is_safe_relative(".git/hooks"));
	CHECK(!path_is_safe_relative("../x"));
	CHECK(!path_is_safe_relative("a/../../x"));
	CHECK(!path_is_safe_relative("/etc"));
	CHECK(!path_is_safe_relative(""));
	CHECK_STREQ(path_basename("/a/b/c"), "c");
}

static void test_path_absolute(void)
{
	_cleanup_free_ char *p = NULL;
	char cwd[4096];

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK(path_absolute("sub/../x", &p, NULL) == 0);
	CHECK(p && strncmp(p, cwd, strlen(cwd)) == 0);
	CHECK(p && strcmp(p + strlen(cwd), strcmp(cwd, "/") ? "/x" : "x") == 0);
}

static void test_file_roundtrip(void)
{
	char dir[] = "/tmp/coi-test-XXXXXX";
	_cleanup_free_ char *f = NULL, *f2 = NULL, *deep = NULL;
	_cleanup_buf_ struct buf b = BUF_INIT(4);
	_cleanup_buf_ struct buf big = BUF_INIT(1024);
	struct coi_error err = {0};

	CHECK(mkdtemp(dir) != NULL);
	deep = path_join(dir, "a/b/c");
	CHECK(mkdir_p(deep, 0700) == 0);
	CHECK(mkdir_p(deep, 0700) == 0);
	f = path_join(dir, "f");
	f2 = path_join(dir, "fifo");
	CHECK(write_file_atomic(f, "hello", 5, 0600, &err) == 0);
	CHECK(read_file(f, &b, &err) == -E2BIG);
	CHECK(strstr(err.msg, "larger than 4 bytes") != NULL);
	CHECK(read_file(f, &big, &err) == 0);
	CHECK_STREQ(buf_str(&big), "hello");
	CHECK(read_file(dir, &big, &err) == -EISDIR);
	/* a FIFO is refused at once, not waited on; /dev/null reads as empty */
	CHECK(mkfifo(f2, 0600) == 0);
	CHECK(read_file(f2, &big, &err) == -EINVAL);
	CHECK(strstr(err.msg, "is not a regular file") != NULL);
	CHECK(read_file("/dev/zero", &big, &err) == -EINVAL);
	buf_reset(&big);
	CHECK(read_file("/dev/null", &big, &err) == 0 && big.len == 0);
	(void)unlink(f2);
	(void)unlink(f);
	(void)rmdir(deep);
	*strrchr(deep, '/') = '\0';
	(void)rmdir(deep);
	*strrchr(deep, '/') = '\0';
	(void)rmdir(deep);
	CHECK(rmdir(dir) == 0);
}

static void test_strv(void)
{
	_cleanup_strv_free_ char **l = NULL, **s = NULL;
	_cleanup_free_ char *j = NULL;

	CHECK(strv_push(&l, "a") == 0);
	CHECK(strv_push(&l, "b c") == 0);
	CHECK(strv_length(l) == 2);
	CHECK(strv_contains(l, "b c"));
	CHECK(!strv_contains(l, "b"));
	j = strv_join(l, ",");
	CHECK_STREQ(j, "a,b c");
	s = strv_split("  x  y,z ", " ,");
	CHECK(strv_length(s) == 3);
	CHECK_STREQ(s[2], "z");
}

static void test_sha256(void)
{
	char hex[SHA256_HEX_LEN + 1];

	CHECK(sha256_hex("abc", 3, hex) == 0);
	CHECK_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_json(void)
{
	_cleanup_json_ json_t *j = NULL;
	struct coi_error err = {0};
	const char *s = "{\"a\":{\"b\":{\"c\":\"x\"}},\"n\":5,\"t\":true}";

	CHECK(json_parse(s, strlen(s), &j, &err) == 0);
	CHECK_STREQ(json_string_value(json_get_path(j, "a.b.c")), "x");
	CHECK(json_get_path(j, "a.z.c") == NULL);
	CHECK(json_get_int(j, "n", -1) == 5);
	CHECK(json_get_int(j, "t", -1) == -1);
	CHECK(json_get_bool(j, "t", false));
	CHECK(json_get_str(j, "n") == NULL);
	CHECK(json_parse("{\"a\":1,\"a\":2}", 13, &j, &err) == -EBADMSG);
	CHECK(json_parse("{", 1, &j, &err) == -EBADMSG);
	CHECK(strstr(err.msg, "line 1") != NULL);
}

static void test_units(void)
{
	static const struct {
		const char *s;
		int r;
		uint64_t v;
	} cases[] = {
	        {"10GiB", 0, 10ULL << 30},
	        {"512MiB", 0, 512ULL << 20},
	        {"2GB", 0, 2000000000ULL},
	        {"64M", 0, 64ULL << 20},
	        {"1.5KiB", 0, 1536},
	        {"1000", 0, 1000},
	        {"7B", 0, 7},
	        {"1kB", 0, 1000},
	        {"", -EINVAL, 0},
	        {"GiB", -EINVAL, 0},
	        {"10 GiB", -EINVAL, 0},
	        {"-1M", -EINVAL, 0},
	        {"10Gb", -EINVAL, 0},
	        {"1,5G", -EINVAL, 0},
	        {"inf", -EINVAL, 0},
	        {"9999999T", -ERANGE, 0},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t v = 0;
		int r = units_parse_size(cases[i].s, &v);

		if (r != cases[i].r || (r == 0 && v != cases[i].v))
			printf("# '%s': %d %llu\n", cases[i].s, r, (unsigned long long)v);
		CHECK(r == cases[i].r && (r != 0 || v == cases[i].v));
	}
}

/* What a terminal would act on becomes visible text; text, UTF-8 included, stays. */
/* ere_cost_check: what glibc's regcomp would build too big is refused before it is built. */
static void test_ere_cost(void)
{
	static const char *const fine[] = {"^x+.*y$",
	                                   "(?:a|b)*",
	                                   "([0-9]{1,3}\\.){3}[0-9]{1,3}",
	                                   "[a-z0-9]{32,64}",
	                                   "\\b(curl|wget)\\b.*\\|[[:space:]]*(ba)?sh",
	                                   "[]a]+[^]b]*",
	                                   "a{2,}",
	                                   "x{",
	                                   "(((a)))"};
	char bomb[256] = "^x";
	const char *why;

	for (size_t i = 0; i < ELEMENTSOF(fine); i++)
		CHECK(ere_cost_check(fine[i], ERE_COST_MAX, &why) == 0);
	/* fuzz-rulefile's out-of-memory: one x, a hundred +, each doubling the tree */
	for (int i = 0; i < 100; i++)
		strcat(bomb, "+");
	CHECK(ere_cost_check(bomb, ERE_COST_MAX, &why) == -E2BIG);
	CHECK(ere_cost_check("(a{200}){200}", ERE_COST_MAX, &why) == -E2BIG);
	CHECK(ere_cost_check("a{65535}", ERE_COST_MAX, &why) == -E2BIG);
	CHECK(ere_cost_check("((((((((((((x*)*)*)*)*)*)*)*)*)*)*)*)*)*", ERE_COST_MAX, &why) ==
	      -E2BIG);
	CHECK(ere_cost_check("(a)\\1", ERE_COST_MAX, &why) == -EINVAL);
	CHECK(strstr(why, "back-reference") != NULL);
	/* a bracket's contents are no quantifiers */
	CHECK(ere_cost_check("[+*?{}]+", ERE_COST_MAX, &why) == 0);
}

static void test_term(void)
{
	char out[256];

	CHECK_STREQ(term_escape("plain /home/u/é ✓", false, out, sizeof(out)), "plain /home/u/é ✓");
	CHECK_STREQ(term_escape("a\033]0;pwned\a\033[2Jb", false, out, sizeof(out)),
	            "a\\x1B]0;pwned\\x07\\x1B[2Jb");
	CHECK_STREQ(term_escape("l1\nl2\tx\r", true, out, sizeof(out)), "l1\nl2\tx\\x0D");
	CHECK_STREQ(term_escape("l1\nl2", false, out, sizeof(out)), "l1\\x0Al2");
	/* C1 controls as UTF-8 (U+009B is CSI), a lone C1 byte, an overlong ESC, DEL */
	CHECK_STREQ(term_escape("\xc2\x9b"
	                        "2J\x9b\xc0\x9b\x7f",
	                        false, out, sizeof(out)),
	            "\\xC2\\x9B2J\\x9B\\xC0\\x9B\\x7F");
	CHECK(!term_needs_escape("ok é", false) && term_needs_escape("\033", false));
	/* cut at a character, never inside an escape or a UTF-8 sequence */
	CHECK_STREQ(term_escape("ab\033", false, out, 6), "ab");
	CHECK_STREQ(term_escape("aé", false, out, 3), "a");
}

/* "did you mean": a swap, a letter too many or too few, one wrong; never itself, nothing far. */
static void test_suggest(void)
{
	const char *verbs[] = {"list", "kill", "shell", "shutdown", "close", "snapshot", NULL};
	const char *opts[] = {"--json", "--format", "--all", NULL};

	CHECK(suggest_distance("lsit", "list") == 1);
	CHECK(suggest_distance("kitten", "sitting") == 3);
	CHECK(suggest_distance("", "abc") == 3);
	CHECK_STREQ(suggest_closest("lsit", verbs), "list");
	CHECK_STREQ(suggest_closest("shel", verbs), "shell");
	CHECK_STREQ(suggest_closest("snapshto", verbs), "snapshot");
	CHECK_STREQ(suggest_closest("--jsno", opts), "--json");
	CHECK_STREQ(suggest_closest("--al", opts), "--all");
	CHECK(suggest_closest("list", verbs) == NULL);
	CHECK(suggest_closest("frobnicate", verbs) == NULL);
	CHECK(suggest_closest("x", NULL) == NULL);
}

/* fd_copy: everything up to the cap, -E2BIG past it; fd_read_all stops at the end. */
static void test_fd_copy(void)
{
	int in[2], out[2];
	char got[64] = {0};
	_cleanup_buf_ struct buf b = BUF_INIT(64);

	CHECK(pipe(in) == 0 && pipe(out) == 0);
	CHECK(fd_write_all(in[1], "0123456789", 10) == 0);
	close(in[1]);
	CHECK(fd_copy(in[0], out[1], 10) == 0);
	close(in[0]);
	close(out[1]);
	CHECK(fd_read_all(out[0], &b) == 0);
	CHECK_STREQ(buf_str(&b), "0123456789");
	close(out[0]);

	CHECK(pipe(in) == 0 && pipe(out) == 0);
	CHECK(fd_write_all(in[1], "0123456789", 10) == 0);
	close(in[1]);
	CHECK(fd_copy(in[0], out[1], 9) == -E2BIG);
	close(in[0]);
	close(out[1]);
	CHECK(read(out[0], got, sizeof(got)) == 0); /* nothing past the cap was written */
	close(out[0]);
}

int main(void)
{
	RUN(test_units);
	RUN(test_suggest);
	RUN(test_buf_ceiling);
	RUN(test_buf_steal);
	RUN(test_error_chain);
	RUN(test_path_clean);
	RUN(test_path_absolute);
	RUN(test_file_roundtrip);
	RUN(test_fd_copy);
	RUN(test_strv);
	RUN(test_sha256);
	RUN(test_json);
	RUN(test_term);
	RUN(test_ere_cost);
	return tap_done();
}
