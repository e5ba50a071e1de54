/* SPDX-License-Identifier: MIT */
/* httpreq.c: judge and rewrite the requests of one proxied connection (httpreq.h). http-parser
 * does the parsing; its callbacks collect the head of each request into capped buffers, the
 * head is judged once complete, and the request is written out again from the parsed parts. */
#include "egress/httpreq.h"

#include <ctype.h>
#include <errno.h>
#include <http_parser.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "egress/secret.h"
#include "util/buf.h"
#include "util/cleanup.h"

#define BASIC_MAX 4096 /* decoded Basic credentials searched for placeholders */

struct hdr {
	size_t name, name_len, val, val_len; /* offsets into head */
	uint32_t mine;                       /* secrets for this host whose placeholder it holds */
};

struct egress_req {
	struct egress_req_opts o;
	http_parser p;
	struct buf head; /* header names and values, as received */
	struct buf url;
	struct hdr h[EGRESS_HEADERS_MAX];
	size_t n_h;
	enum { CB_NONE, CB_FIELD, CB_VALUE } last;
	bool in_body; /* the head was judged and written; trailers are dropped */
	bool chunked;
	uint32_t foreign; /* secrets that are not for this host: searched in bodies */
	size_t max_ph;
	char carry[EGRESS_PLACEHOLDER_MAX];
	size_t n_carry;
	struct egress_finding f;
	bool refused;
	int err; /* out of memory or the emitter's error, inside a callback */
	unsigned passed, injected;
};

static const char *const reasons[_EGRESS_VERDICT_MAX] = {
        [EGRESS_PASS] = "OK",
        [EGRESS_REFUSE_PLACEHOLDER] = "Forbidden",
        [EGRESS_REFUSE_MISDIRECTED] = "Misdirected Request",
        [EGRESS_REFUSE_BAD] = "Bad Request",
        [EGRESS_REFUSE_METHOD] = "Method Not Allowed",
        [EGRESS_REFUSE_TOO_LARGE] = "Request Header Fields Too Large",
        [EGRESS_REFUSE_NO_VALUE] = "Bad Gateway",
};
static const unsigned statuses[_EGRESS_VERDICT_MAX] = {
        [EGRESS_PASS] = 200,
        [EGRESS_REFUSE_PLACEHOLDER] = 403,
        [EGRESS_REFUSE_MISDIRECTED] = 421,
        [EGRESS_REFUSE_BAD] = 400,
        [EGRESS_REFUSE_METHOD] = 405,
        [EGRESS_REFUSE_TOO_LARGE] = 431,
        [EGRESS_REFUSE_NO_VALUE] = 502,
};

unsigned egress_verdict_status(enum egress_verdict v)
{
	return v < _EGRESS_VERDICT_MAX ? statuses[v] : 500;
}

const char *egress_verdict_reason(enum egress_verdict v)
{
	return v < _EGRESS_VERDICT_MAX ? reasons[v] : "Internal Server Error";
}

static struct egress_req *req_of(http_parser *p)
{
	return p->data;
}

/* Records a refusal and stops the parser (a non-zero callback result). */
static int refuse(struct egress_req *r, enum egress_verdict v, const struct egress_secret *s,
                  const char *where)
{
	size_t n = r->url.len < sizeof(r->f.target) - 1 ? r->url.len : sizeof(r->f.target) - 1;

	r->refused = true;
	r->f.verdict = v;
	r->f.secret = s ? s->name : NULL;
	(void)snprintf(r->f.where, sizeof(r->f.where), "%s", where);
	(void)snprintf(r->f.method, sizeof(r->f.method), "%s",
	               http_method_str((enum http_method)r->p.method));
	memcpy(r->f.target, buf_str(&r->url), n);
	r->f.target[n] = '\0';
	return -1;
}

static int fail(struct egress_req *r, int e)
{
	r->err = e;
	return -1;
}

/* ---- collecting the head ------------------------------------------------------------------ */

static int on_message_begin(http_parser *p)
{
	struct egress_req *r = req_of(p);

	buf_reset(&r->head);
	buf_reset(&r->url);
	r->n_h = 0;
	r->last = CB_NONE;
	r->in_body = false;
	r->chunked = false;
	r->n_carry = 0;
	return 0;
}

static int too_large(struct egress_req *r, int e)
{
	return e == -E2BIG ? refuse(r, EGRESS_REFUSE_TOO_LARGE, NULL, "head") : fail(r, e);
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct egress_req *r = req_of(p);
	int e = buf_append(&r->url, at, len);

	return e < 0 ? too_large(r, e) : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct egress_req *r = req_of(p);
	int e;

	if (r->in_body) /* a trailer: dropped */
		return 0;
	if (r->last != CB_FIELD) {
		if (r->n_h == EGRESS_HEADERS_MAX)
			return refuse(r, EGRESS_REFUSE_TOO_LARGE, NULL, "header count");
		r->h[r->n_h++] = (struct hdr){.name = r->head.len};
		r->last = CB_FIELD;
	}
	e = buf_append(&r->head, at, len);
	if (e < 0)
		return too_large(r, e);
	r->h[r->n_h - 1].name_len += len;
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct egress_req *r = req_of(p);
	struct hdr *h;
	int e;

	if (r->in_body || r->n_h == 0)
		return 0;
	h = &r->h[r->n_h - 1];
	if (r->last != CB_VALUE) {
		h->val = r->head.len;
		r->last = CB_VALUE;
	}
	e = buf_append(&r->head, at, len);
	if (e < 0)
		return too_large(r, e);
	h->val_len += len;
	return 0;
}

/* ---- judging ------------------------------------------------------------------------------ */

static const char *hname(const struct egress_req *r, const struct hdr *h)
{
	return r->head.data + h->name;
}

static const char *hval(const struct egress_req *r, const struct hdr *h)
{
	return r->head.data + h->val;
}

static bool name_is(const struct egress_req *r, const struct hdr *h, const char *name)
{
	return h->name_len == strlen(name) && strncasecmp(hname(r, h), name, h->name_len) == 0;
}

static bool has(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* The Basic credentials of an Authorization value, decoded into out (NUL-terminated); its
 * length, or -1 when the value is not Basic. */
static int basic_decode(const char *v, size_t n, char out[static BASIC_MAX + 3])
{
	size_t skip = 0, pad = 0;
	int len;

	if (n < 6 || strncasecmp(v, "Basic ", 6) != 0)
		return -1;
	for (skip = 6; skip < n && v[skip] == ' '; skip++)
		;
	v += skip;
	n -= skip;
	while (n > 0 && v[n - 1] == ' ')
		n--;
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > BASIC_MAX)
		return -1;
	for (size_t i = n; i > 0 && v[i - 1] == '=' && pad < 2; i--)
		pad++;
	len = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)v, (int)n);
	if (len < 0)
		return -1;
	len -= (int)pad;
	out[len] = '\0';
	return len;
}

/* Host header (value up to an optional :port) and absolute-form targets must name r->o.host. */
static bool same_host(const char *h, size_t n, const char *host)
{
	const char *colon = memchr(h, ':', n);

	if (colon)
		n = (size_t)(colon - h);
	return n == strlen(host) && strncasecmp(h, host, n) == 0;
}

static int check_host(struct egress_req *r)
{
	struct http_parser_url u;
	size_t hosts = 0;

	for (size_t i = 0; i < r->n_h; i++) {
		const struct hdr *h = &r->h[i];

		if (!name_is(r, h, "host"))
			continue;
		if (++hosts > 1)
			return refuse(r, EGRESS_REFUSE_BAD, NULL, "two Host headers");
		if (!same_host(hval(r, h), h->val_len, r->o.host))
			return refuse(r, EGRESS_REFUSE_MISDIRECTED, NULL, "header 'Host'");
	}
	if (r->url.len == 0 || r->url.data[0] == '/' || strcmp(r->url.data, "*") == 0)
		return 0;
	http_parser_url_init(&u);
	if (http_parser_parse_url(r->url.data, r->url.len, 0, &u) != 0 ||
	    !(u.field_set & (1 << UF_HOST)) ||
	    !same_host(r->url.data + u.field_data[UF_HOST].off, u.field_data[UF_HOST].len,
	               r->o.host))
		return refuse(r, EGRESS_REFUSE_MISDIRECTED, NULL, "request target");
	return 0;
}

/* Which placeholders a header holds: those for this host go into h->mine; one for another host
 * refuses the request. */
static int scan_header(struct egress_req *r, struct hdr *h)
{
	char basic[BASIC_MAX + 3], where[EGRESS_HEADER_MAX + 16];
	int nb = basic_decode(hval(r, h), h->val_len, basic);
	const struct egress_set *set = r->o.set;

	for (size_t i = 0; i < set->n; i++) {
		const char *ph = set->v[i].placeholder;

		if (!has(hname(r, h), h->name_len, ph) && !has(hval(r, h), h->val_len, ph) &&
		    !(nb > 0 && has(basic, (size_t)nb, ph)))
			continue;
		if (!(r->foreign & (1u << i))) {
			h->mine |= 1u << i;
			continue;
		}
		(void)snprintf(
		        where, sizeof(where), "header '%.*s'",
		        (int)(h->name_len > EGRESS_HEADER_MAX ? EGRESS_HEADER_MAX : h->name_len),
		        hname(r, h));
		return refuse(r, EGRESS_REFUSE_PLACEHOLDER, &set->v[i], where);
	}
	return 0;
}

/* The secrets whose placeholder the target holds (refusing another host's). */
static int scan_target(struct egress_req *r, uint32_t *mine)
{
	const struct egress_set *set = r->o.set;

	for (size_t i = 0; i < set->n; i++) {
		if (!has(r->url.data ? r->url.data : "", r->url.len, set->v[i].placeholder))
			continue;
		if (r->foreign & (1u << i))
			return refuse(r, EGRESS_REFUSE_PLACEHOLDER, &set->v[i], "request target");
		*mine |= 1u << i;
	}
	return 0;
}

/* ---- writing the request out -------------------------------------------------------------- */

/* text with every placeholder of the secrets in mask replaced by its value (pct: percent-encoded
 * outside RFC 3986's unreserved characters). */
static int put_replaced(struct buf *out, const char *text, size_t n, uint32_t mask,
                        const char *const *values, const struct egress_set *set, bool pct)
{
	size_t i = 0;

	while (i < n) {
		size_t k, best = SIZE_MAX, which = 0;
		const char *hit;
		int e;

		for (k = 0; k < set->n; k++) {
			if (!(mask & (1u << k)))
				continue;
			hit = memmem(text + i, n - i, set->v[k].placeholder,
			             strlen(set->v[k].placeholder));
			if (hit && (size_t)(hit - text) < best) {
				best = (size_t)(hit - text);
				which = k;
			}
		}
		if (best == SIZE_MAX)
			return buf_append(out, text + i, n - i);
		e = buf_append(out, text + i, best - i);
		for (const char *v = values[which]; e >= 0 && *v; v++) {
			unsigned char c = (unsigned char)*v;

			if (!pct || isalnum(c) || strchr("-._~", c))
				e = buf_putc(out, (char)c);
			else
				e = buf_printf(out, "%%%02X", c);
		}
		if (e < 0)
			return e;
		i = best + strlen(set->v[which].placeholder);
	}
	return 0;
}

static int put_basic(struct buf *out, const char *plain, size_t n)
{
	_cleanup_free_ unsigned char *enc = malloc(4 * ((n + 2) / 3) + 1);
	int e;

	if (!enc)
		return -ENOMEM;
	(void)EVP_EncodeBlock(enc, (const unsigned char *)plain, (int)n);
	e = buf_puts(out, "Basic ");
	return e < 0 ? e : buf_puts(out, (const char *)enc);
}

/* A header whose placeholders are replaced where they stand (secrets without a header). */
static int put_in_place(struct egress_req *r, const struct hdr *h, uint32_t mask,
                        const char *const *values, struct buf *out)
{
	char basic[BASIC_MAX + 3];
	int nb = basic_decode(hval(r, h), h->val_len, basic), e;

	e = buf_append(out, hname(r, h), h->name_len);
	if (e >= 0)
		e = buf_puts(out, ": ");
	if (e < 0)
		return e;
	if (nb > 0) {
		_cleanup_buf_ struct buf plain = BUF_INIT(BASIC_MAX + 2 * EGRESS_VALUE_MAX);

		e = put_replaced(&plain, basic, (size_t)nb, mask, values, r->o.set, false);
		explicit_bzero(basic, sizeof(basic));
		if (e >= 0)
			e = put_basic(out, plain.data, plain.len);
		if (plain.data)
			explicit_bzero(plain.data, plain.len);
	} else {
		e = put_replaced(out, hval(r, h), h->val_len, mask, values, r->o.set, false);
	}
	return e < 0 ? e : buf_puts(out, "\r\n");
}

/* Bits of the secrets that have a header of their own among mask. */
static uint32_t with_header(const struct egress_set *set, uint32_t mask)
{
	uint32_t m = 0;

	for (size_t i = 0; i < set->n; i++)
		if ((mask & (1u << i)) && set->v[i].header)
			m |= 1u << i;
	return m;
}

static bool named_by(const struct egress_req *r, const struct hdr *h, uint32_t added)
{
	for (size_t i = 0; i < r->o.set->n; i++)
		if ((added & (1u << i)) && name_is(r, h, r->o.set->v[i].header))
			return true;
	return false;
}

static int put_headers(struct egress_req *r, uint32_t added, const char *const *values,
                       struct buf *out)
{
	int e = 0;

	for (size_t i = 0; i < r->n_h && e >= 0; i++) {
		const struct hdr *h = &r->h[i];

		if (with_header(r->o.set, h->mine) || named_by(r, h, added))
			continue; /* replaced by the secret's own header below */
		if (h->mine) {
			e = put_in_place(r, h, h->mine, values, out);
			continue;
		}
		e = buf_append(out, hname(r, h), h->name_len);
		if (e >= 0)
			e = buf_puts(out, ": ");
		if (e >= 0)
			e = buf_append(out, hval(r, h), h->val_len);
		if (e >= 0)
			e = buf_puts(out, "\r\n");
	}
	for (size_t i = 0; i < r->o.set->n && e >= 0; i++) {
		if (!(added & (1u << i)))
			continue;
		e = buf_printf(out, "%s: ", r->o.set->v[i].header);
		if (e >= 0)
			e = egress_secret_render(&r->o.set->v[i], values[i], out);
		if (e >= 0)
			e = buf_puts(out, "\r\n");
	}
	return e;
}

static int write_head(struct egress_req *r, uint32_t mine, uint32_t url_mine,
                      const char *const *values)
{
	_cleanup_buf_ struct buf out =
	        BUF_INIT(2 * EGRESS_HEAD_MAX + (size_t)EGRESS_SECRETS_MAX * 2 * EGRESS_VALUE_MAX);
	uint32_t added = with_header(r->o.set, mine);
	int e;

	e = buf_printf(&out, "%s ", http_method_str((enum http_method)r->p.method));
	if (e >= 0)
		e = put_replaced(&out, r->url.data ? r->url.data : "", r->url.len, url_mine, values,
		                 r->o.set, true);
	if (e >= 0)
		e = buf_printf(&out, " HTTP/%u.%u\r\n", r->p.http_major, r->p.http_minor);
	if (e >= 0)
		e = put_headers(r, added, values, &out);
	if (e >= 0)
		e = buf_puts(&out, "\r\n");
	if (e >= 0)
		e = r->o.emit(r->o.userdata, out.data, out.len);
	if (out.data)
		explicit_bzero(out.data, out.len);
	return e;
}

/* A line break or NUL inside a name or value (obs-fold) would be written out as a new line. */
static bool plain_text(const char *s, size_t n)
{
	return !memchr(s, '\r', n) && !memchr(s, '\n', n) && !memchr(s, '\0', n);
}

static int on_headers_complete(http_parser *p)
{
	struct egress_req *r = req_of(p);
	const char *values[EGRESS_SECRETS_MAX] = {0};
	uint32_t mine = 0, url_mine = 0;
	int e;

	if (p->method == HTTP_CONNECT)
		return refuse(r, EGRESS_REFUSE_METHOD, NULL, "CONNECT");
	for (size_t i = 0; i < r->n_h; i++)
		if (!plain_text(hname(r, &r->h[i]), r->h[i].name_len) ||
		    !plain_text(hval(r, &r->h[i]), r->h[i].val_len))
			return refuse(r, EGRESS_REFUSE_BAD, NULL, "line break in a header");
	if (check_host(r) < 0)
		return -1;
	for (size_t i = 0; i < r->n_h; i++) {
		if (scan_header(r, &r->h[i]) < 0)
			return -1;
		mine |= r->h[i].mine;
	}
	if (scan_target(r, &url_mine) < 0)
		return -1;
	for (size_t i = 0; i < r->o.set->n; i++) {
		if (!((mine | url_mine) & (1u << i)))
			continue;
		values[i] = r->o.value(r->o.userdata, i);
		if (!values[i] || !egress_value_valid(values[i]))
			return refuse(r, EGRESS_REFUSE_NO_VALUE, &r->o.set->v[i], "value");
	}
	e = write_head(r, mine, url_mine, values);
	if (e < 0)
		return fail(r, e);
	r->in_body = true;
	r->chunked = (p->flags & F_CHUNKED) != 0;
	r->passed++;
	if (mine | url_mine)
		r->injected++;
	return 0;
}

/* ---- the body ----------------------------------------------------------------------------- */

/* Does text hold the placeholder of a secret for another host? Its index, or -1. */
static int foreign_in(const struct egress_req *r, const char *text, size_t n)
{
	for (size_t i = 0; i < r->o.set->n; i++)
		if ((r->foreign & (1u << i)) && has(text, n, r->o.set->v[i].placeholder))
			return (int)i;
	return -1;
}

/* Searches a piece of body, including placeholders split across pieces (the last max_ph - 1
 * bytes of the previous ones are kept in carry). */
static int scan_body(struct egress_req *r, const char *at, size_t len)
{
	char win[2 * EGRESS_PLACEHOLDER_MAX];
	size_t keep = r->max_ph - 1, head = len < keep ? len : keep, n;
	int which;

	memcpy(win, r->carry, r->n_carry);
	memcpy(win + r->n_carry, at, head);
	which = foreign_in(r, win, r->n_carry + head);
	if (which < 0)
		which = foreign_in(r, at, len);
	if (which >= 0)
		return refuse(r, EGRESS_REFUSE_PLACEHOLDER, &r->o.set->v[which], "body");
	n = r->n_carry + head;
	if (len >= keep) {
		memcpy(r->carry, at + len - keep, keep);
		r->n_carry = keep;
	} else {
		size_t from = n > keep ? n - keep : 0;

		memmove(r->carry, win + from, n - from);
		r->n_carry = n - from;
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct egress_req *r = req_of(p);
	char size[24];
	int e = 0;

	if (r->foreign && r->max_ph > 1 && scan_body(r, at, len) < 0)
		return -1;
	if (r->chunked) {
		int n = snprintf(size, sizeof(size), "%zx\r\n", len);

		e = r->o.emit(r->o.userdata, size, (size_t)n);
	}
	if (e >= 0)
		e = r->o.emit(r->o.userdata, at, len);
	if (e >= 0 && r->chunked)
		e = r->o.emit(r->o.userdata, "\r\n", 2);
	return e < 0 ? fail(r, e) : 0;
}

static int on_message_complete(http_parser *p)
{
	struct egress_req *r = req_of(p);
	int e = 0;

	if (r->chunked)
		e = r->o.emit(r->o.userdata, "0\r\n\r\n", 5);
	r->in_body = false;
	r->chunked = false;
	r->last = CB_NONE;
	return e < 0 ? fail(r, e) : 0;
}

static const http_parser_settings settings = {
        .on_message_begin = on_message_begin,
        .on_url = on_url,
        .on_header_field = on_header_field,
        .on_header_value = on_header_value,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
};

/* ---- the connection ----------------------------------------------------------------------- */

int egress_req_new(const struct egress_req_opts *o, struct egress_req **ret)
{
	struct egress_req *r;

	if (!o->set || o->set->n > EGRESS_SECRETS_MAX || !o->host || !o->emit || !o->value)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->o = *o;
	r->head = BUF_INIT(EGRESS_HEAD_MAX);
	r->url = BUF_INIT(EGRESS_HEAD_MAX);
	http_parser_init(&r->p, HTTP_REQUEST);
	r->p.data = r;
	for (size_t i = 0; i < o->set->n; i++) {
		size_t n = strlen(o->set->v[i].placeholder);

		if (!egress_secret_for_host(&o->set->v[i], o->host))
			r->foreign |= 1u << i;
		if (n > r->max_ph && n <= EGRESS_PLACEHOLDER_MAX)
			r->max_ph = n;
	}
	*ret = r;
	return 0;
}

struct egress_req *egress_req_free(struct egress_req *r)
{
	if (!r)
		return NULL;
	if (r->head.data)
		explicit_bzero(r->head.data, r->head.len);
	buf_release(&r->head);
	buf_release(&r->url);
	free(r);
	return NULL;
}

int egress_req_feed(struct egress_req *r, const void *data, size_t len, size_t *ret_used)
{
	size_t n;

	if (r->refused)
		return -EACCES;
	if (r->err)
		return r->err;
	n = http_parser_execute(&r->p, &settings, data, len);
	if (r->err)
		return r->err;
	if (r->refused)
		return -EACCES;
	if (HTTP_PARSER_ERRNO(&r->p) != HPE_OK || (!r->p.upgrade && n != len)) {
		(void)refuse(r, EGRESS_REFUSE_BAD, NULL,
		             http_errno_name((enum http_errno)HTTP_PARSER_ERRNO(&r->p)));
		return -EACCES;
	}
	if (ret_used)
		*ret_used = n;
	return r->p.upgrade ? 1 : 0;
}

const struct egress_finding *egress_req_finding(const struct egress_req *r)
{
	return r->refused ? &r->f : NULL;
}

unsigned egress_req_passed(const struct egress_req *r)
{
	return r->passed;
}

unsigned egress_req_injected(const struct egress_req *r)
{
	return r->injected;
}
