/*
 * consume_format.c -- `rill consume -f`: kcat's output format language.
 *
 * The format is compiled once into a list of steps (literal bytes, or a
 * message field), so printing a message is a walk over the steps with
 * fwrite: no parsing and no allocation per message.  Keys, values and
 * headers are written as raw bytes; %K/%S (or %R) give their lengths so a
 * reader can split binary data exactly, as with kcat.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "consume.h"

enum step_kind {
    S_LIT = 0,
    S_TOPIC,
    S_PARTITION,
    S_OFFSET,
    S_TIMESTAMP,
    S_KEY,
    S_KEY_LEN,
    S_VALUE,
    S_VALUE_LEN,
    S_VALUE_LEN_BE32,
    S_HEADERS,
};

struct step {
    enum step_kind kind;
    size_t off, len; /* S_LIT: bytes in lit */
};

struct cli_fmt {
    struct step *steps;
    size_t n;
    char *lit; /* every literal, escapes resolved */
};

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static enum step_kind token_kind(char ch) {
    switch (ch) {
    case 't':
        return S_TOPIC;
    case 'p':
        return S_PARTITION;
    case 'o':
        return S_OFFSET;
    case 'T':
        return S_TIMESTAMP;
    case 'k':
        return S_KEY;
    case 'K':
        return S_KEY_LEN;
    case 's':
    case 'v':
        return S_VALUE;
    case 'S':
        return S_VALUE_LEN;
    case 'R':
        return S_VALUE_LEN_BE32;
    case 'h':
        return S_HEADERS;
    default:
        return S_LIT; /* not a token */
    }
}

/* Appends one literal byte, joining it to the previous literal step. */
static void add_lit(cli_fmt *f, size_t *litlen, char ch) {
    f->lit[*litlen] = ch;
    if (f->n && f->steps[f->n - 1].kind == S_LIT &&
        f->steps[f->n - 1].off + f->steps[f->n - 1].len == *litlen) {
        f->steps[f->n - 1].len++;
    } else {
        f->steps[f->n].kind = S_LIT;
        f->steps[f->n].off = *litlen;
        f->steps[f->n].len = 1;
        f->n++;
    }
    (*litlen)++;
}

cli_fmt *cli_fmt_new(const char *spec, char *errstr, size_t errstr_size) {
    size_t len = strlen(spec);
    cli_fmt *f = calloc(1, sizeof(*f));
    /* At most one step and one literal byte per character of the spec. */
    if (f) {
        f->steps = calloc(len + 1, sizeof(*f->steps));
        f->lit = malloc(len + 1);
    }
    if (!f || !f->steps || !f->lit) {
        snprintf(errstr, errstr_size, "out of memory");
        cli_fmt_destroy(f);
        return NULL;
    }
    size_t litlen = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = spec[i];
        if (ch == '%') {
            char t = spec[i + 1];
            if (t == '%') {
                add_lit(f, &litlen, '%');
            } else if (t && token_kind(t) != S_LIT) {
                f->steps[f->n++].kind = token_kind(t);
            } else {
                if (t)
                    snprintf(errstr, errstr_size,
                             "unknown format token %%%c (known: %%t %%p %%o %%T %%k %%K %%s %%v "
                             "%%S %%R %%h %%%%)",
                             t);
                else
                    snprintf(errstr, errstr_size, "the format ends with a lone %%");
                cli_fmt_destroy(f);
                return NULL;
            }
            i++;
        } else if (ch == '\\') {
            char e = spec[i + 1];
            int hi, lo;
            switch (e) {
            case 'n':
                add_lit(f, &litlen, '\n');
                break;
            case 'r':
                add_lit(f, &litlen, '\r');
                break;
            case 't':
                add_lit(f, &litlen, '\t');
                break;
            case '\\':
                add_lit(f, &litlen, '\\');
                break;
            case 'x':
                hi = hexval(spec[i + 2]);
                lo = hi >= 0 ? hexval(spec[i + 3]) : -1;
                if (hi < 0 || lo < 0) {
                    snprintf(errstr, errstr_size, "\\x needs two hex digits in the format");
                    cli_fmt_destroy(f);
                    return NULL;
                }
                add_lit(f, &litlen, (char)(hi * 16 + lo));
                i += 2;
                break;
            default:
                if (e)
                    snprintf(errstr, errstr_size,
                             "unknown escape \\%c in the format (known: \\n \\r \\t \\\\ "
                             "\\xHH)",
                             e);
                else
                    snprintf(errstr, errstr_size, "the format ends with a lone \\");
                cli_fmt_destroy(f);
                return NULL;
            }
            i++;
        } else {
            add_lit(f, &litlen, ch);
        }
    }
    return f;
}

void cli_fmt_destroy(cli_fmt *f) {
    if (!f)
        return;
    free(f->steps);
    free(f->lit);
    free(f);
}

static void put_bytes(const void *p, size_t n, FILE *out) {
    if (p && n)
        fwrite(p, 1, n, out);
}

static void put_headers(const rill_message_t *m, FILE *out) {
    size_t nh = rill_message_header_count(m);
    for (size_t i = 0; i < nh; i++) {
        const char *name;
        const void *val;
        size_t nlen, vlen;
        if (rill_message_header(m, i, &name, &nlen, &val, &vlen) != 0)
            break;
        if (i)
            fputc(',', out);
        put_bytes(name, nlen, out);
        fputc('=', out);
        if (val)
            put_bytes(val, vlen, out);
        else
            fputs("NULL", out);
    }
}

int cli_fmt_print(const cli_fmt *f, const rill_message_t *m, FILE *out) {
    size_t klen, vlen;
    const void *key, *val;
    for (size_t i = 0; i < f->n; i++) {
        const struct step *s = &f->steps[i];
        switch (s->kind) {
        case S_LIT:
            put_bytes(f->lit + s->off, s->len, out);
            break;
        case S_TOPIC:
            fputs(rill_message_topic(m), out);
            break;
        case S_PARTITION:
            fprintf(out, "%" PRId32, rill_message_partition(m));
            break;
        case S_OFFSET:
            fprintf(out, "%" PRId64, rill_message_offset(m));
            break;
        case S_TIMESTAMP:
            fprintf(out, "%" PRId64, rill_message_timestamp(m, NULL));
            break;
        case S_KEY:
            key = rill_message_key(m, &klen);
            put_bytes(key, klen, out);
            break;
        case S_KEY_LEN:
            key = rill_message_key(m, &klen);
            fprintf(out, "%lld", key ? (long long)klen : -1LL);
            break;
        case S_VALUE:
            val = rill_message_value(m, &vlen);
            put_bytes(val, vlen, out);
            break;
        case S_VALUE_LEN:
            val = rill_message_value(m, &vlen);
            fprintf(out, "%lld", val ? (long long)vlen : -1LL);
            break;
        case S_VALUE_LEN_BE32: {
            val = rill_message_value(m, &vlen);
            uint32_t v = val ? (uint32_t)vlen : UINT32_MAX; /* -1 as a signed 32-bit integer */
            unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                                   (unsigned char)(v >> 8), (unsigned char)v};
            fwrite(be, 1, 4, out);
            break;
        }
        case S_HEADERS:
            put_headers(m, out);
            break;
        }
    }
    return ferror(out) ? -1 : 0;
}
