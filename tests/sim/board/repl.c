/* What MicroPython's REPL prints for a line typed at its ">>> " prompt, for a small part of
 * Python: integers (decimal, 0x, 0o, 0b), string literals, + - * // % with Python's
 * precedence and floor semantics, unary minus, parentheses, print(...), None/True/False.
 * A bare expression is echoed as its repr; print() writes str() of its arguments
 * separated by spaces. Formats are MicroPython's own (its tests/cmdline/repl_*.exp and
 * py/runtime.c, py/objint.c messages):
 *   Traceback (most recent call last):
 *     File "<stdin>", line 1, in <module>
 *   NameError: name 'x' isn't defined
 * and, for a line that does not parse, "  File "<stdin>", line 1" then
 * "SyntaxError: invalid syntax". Outside this grammar (floats, '/', '**', keyword
 * arguments, assignment...) the model answers SyntaxError where MicroPython would not:
 * see tests/sim/README.md. Integers stop at 64 bits (MicroPython's grow without bound):
 * the model says so with an OverflowError instead of printing a wrong number. */
#include "repl.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define STR_MAX 160

enum kind { V_NONE, V_INT, V_STR, V_BOOL, V_FUNC };

struct value {
    enum kind kind;
    int64_t i;                 /* V_INT, V_BOOL */
    size_t len;                /* V_STR */
    char s[STR_MAX];
};

enum failure { OK, SYNTAX, NAME, ZERO_DIV, TYPE, OVERFLOW };

struct parser {
    const char *p, *end;
    bool run;                  /* false: only check the syntax (Python compiles first) */
    enum failure failed;
    char detail[96];           /* the name for NameError, the text for TypeError */
    char *out;                 /* what print() wrote */
    size_t out_len, out_cap;
};

static bool parse_expr(struct parser *ps, struct value *v);

static void fail(struct parser *ps, enum failure f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct parser *ps, enum failure f, const char *fmt, ...)
{
    if (ps->failed != OK)
        return;
    ps->failed = f;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->detail, sizeof ps->detail, fmt, ap);
    va_end(ap);
}

static void skip_space(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
}

static bool accept(struct parser *ps, const char *token)
{
    skip_space(ps);
    size_t n = strlen(token);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, token, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static void emit(struct parser *ps, const char *s, size_t n)
{
    if (!ps->run)
        return;
    size_t room = ps->out_cap - ps->out_len;
    if (n > room)
        n = room;
    memcpy(ps->out + ps->out_len, s, n);
    ps->out_len += n;
}

static const char *type_name(enum kind k)
{
    switch (k) {
    case V_NONE: return "NoneType";
    case V_INT: return "int";
    case V_STR: return "str";
    case V_BOOL: return "bool";
    case V_FUNC: return "function";
    }
    return "object";
}

/* bool takes part in arithmetic as the int it is. */
static bool numeric(const struct value *v)
{
    return v->kind == V_INT || v->kind == V_BOOL;
}

/* ---- literals and names ---------------------------------------------------------------- */

static bool parse_int(struct parser *ps, struct value *v)
{
    const char *start = ps->p;
    int base = 10;
    if (ps->end - ps->p > 2 && ps->p[0] == '0' && strchr("xXoObB", ps->p[1])) {
        base = tolower((unsigned char)ps->p[1]) == 'x' ? 16
               : tolower((unsigned char)ps->p[1]) == 'o' ? 8 : 2;
        ps->p += 2;
    }
    uint64_t n = 0;
    size_t digits = 0;
    bool too_big = false;
    while (ps->p < ps->end && isalnum((unsigned char)*ps->p)) {
        int d = isdigit((unsigned char)*ps->p) ? *ps->p - '0'
                : tolower((unsigned char)*ps->p) - 'a' + 10;
        if (d >= base) {
            fail(ps, SYNTAX, "digit");
            return false;
        }
        too_big = too_big || n > ((uint64_t)INT64_MAX - (uint64_t)d) / (uint64_t)base;
        n = n * (uint64_t)base + (uint64_t)d;
        digits++;
        ps->p++;
    }
    /* Python 3 refuses leading zeros in a decimal literal ("007"). */
    size_t zeros = 0;
    while (zeros < digits && start[zeros] == '0')
        zeros++;
    bool leading_zero = base == 10 && zeros > 0 && zeros < digits;
    if (digits == 0 || leading_zero) {
        fail(ps, SYNTAX, "literal");
        return false;
    }
    if (too_big) {
        fail(ps, OVERFLOW, "literal");
        return false;
    }
    v->kind = V_INT;
    v->i = (int64_t)n;
    return true;
}

static bool parse_str(struct parser *ps, struct value *v)
{
    char quote = *ps->p++;
    v->kind = V_STR;
    v->len = 0;
    while (ps->p < ps->end && *ps->p != quote) {
        char c = *ps->p++;
        if (c == '\\') {
            if (ps->p >= ps->end)
                break;
            c = *ps->p++;
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        }
        if (v->len + 1 < sizeof v->s)
            v->s[v->len++] = c;
    }
    if (ps->p >= ps->end) {   /* no closing quote */
        fail(ps, SYNTAX, "string");
        return false;
    }
    ps->p++;
    v->s[v->len] = '\0';
    return true;
}

static bool parse_call_print(struct parser *ps, struct value *v)
{
    bool first = true;
    if (!accept(ps, ")")) {
        do {
            struct value arg;
            if (!parse_expr(ps, &arg))
                return false;
            if (!first)
                emit(ps, " ", 1);
            first = false;
            char text[STR_MAX + 32];
            size_t n;
            switch (arg.kind) {
            case V_STR:
                emit(ps, arg.s, arg.len);
                break;
            case V_INT:
                n = (size_t)snprintf(text, sizeof text, "%" PRId64, arg.i);
                emit(ps, text, n);
                break;
            case V_BOOL:
                emit(ps, arg.i ? "True" : "False", arg.i ? 4 : 5);
                break;
            case V_NONE:
                emit(ps, "None", 4);
                break;
            case V_FUNC:
                emit(ps, "<function>", 10);
                break;
            }
        } while (accept(ps, ","));
        if (!accept(ps, ")")) {
            fail(ps, SYNTAX, "call");
            return false;
        }
    }
    emit(ps, "\r\n", 2);
    v->kind = V_NONE;
    return true;
}

static bool parse_name(struct parser *ps, struct value *v)
{
    const char *start = ps->p;
    while (ps->p < ps->end && (isalnum((unsigned char)*ps->p) || *ps->p == '_'))
        ps->p++;
    size_t n = (size_t)(ps->p - start);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)n, start);
    bool call = accept(ps, "(");
    if (strcmp(name, "print") == 0) {
        if (call)
            return parse_call_print(ps, v);
        v->kind = V_FUNC;
        return true;
    }
    if (strcmp(name, "None") == 0 || strcmp(name, "True") == 0 ||
        strcmp(name, "False") == 0) {
        v->kind = name[0] == 'N' ? V_NONE : V_BOOL;
        v->i = name[0] == 'T';
        if (call) {
            fail(ps, SYNTAX, "call");   /* outside the model: calling a constant */
            return false;
        }
        return true;
    }
    /* Any other name is undefined at a fresh prompt (nothing was imported or assigned);
     * its lookup fails before an attribute of it or a call. */
    while (!call && accept(ps, ".")) {
        skip_space(ps);
        const char *attr = ps->p;
        while (ps->p < ps->end && (isalnum((unsigned char)*ps->p) || *ps->p == '_'))
            ps->p++;
        if (ps->p == attr || isdigit((unsigned char)*attr)) {
            fail(ps, SYNTAX, "attribute");
            return false;
        }
        call = accept(ps, "(");
    }
    if (call) {
        int depth = 1;   /* the arguments must still parse: skip to the closing bracket */
        while (ps->p < ps->end && depth > 0) {
            depth += *ps->p == '(' ? 1 : *ps->p == ')' ? -1 : 0;
            ps->p++;
        }
        if (depth > 0) {
            fail(ps, SYNTAX, "call");
            return false;
        }
    }
    if (ps->run) {
        fail(ps, NAME, "%s", name);
        return false;
    }
    v->kind = V_NONE;
    return true;
}

static bool parse_atom(struct parser *ps, struct value *v)
{
    skip_space(ps);
    if (ps->p >= ps->end) {
        fail(ps, SYNTAX, "end");
        return false;
    }
    char c = *ps->p;
    if (isdigit((unsigned char)c))
        return parse_int(ps, v);
    if (c == '\'' || c == '"')
        return parse_str(ps, v);
    if (isalpha((unsigned char)c) || c == '_')
        return parse_name(ps, v);
    if (accept(ps, "(")) {
        if (!parse_expr(ps, v))
            return false;
        if (!accept(ps, ")")) {
            fail(ps, SYNTAX, "bracket");
            return false;
        }
        return true;
    }
    fail(ps, SYNTAX, "atom");
    return false;
}

/* ---- operators --------------------------------------------------------------------------- */

static const char *op_method(char op)
{
    switch (op) {
    case '+': return "__add__";
    case '-': return "__sub__";
    case '*': return "__mul__";
    case '/': return "__floordiv__";
    default: return "__mod__";
    }
}

static bool repeat_str(struct parser *ps, const struct value *s, int64_t times,
                       struct value *v)
{
    struct value r = { .kind = V_STR };
    for (int64_t k = 0; k < times && s->len > 0; k++) {
        if (r.len + s->len + 1 > sizeof r.s) {
            fail(ps, OVERFLOW, "string");
            return false;
        }
        memcpy(r.s + r.len, s->s, s->len);
        r.len += s->len;
    }
    r.s[r.len] = '\0';
    *v = r;
    return true;
}

/* a op b into *a; op '/' stands for "//". */
static bool apply(struct parser *ps, char op, struct value *a, const struct value *b)
{
    if (!ps->run)
        return true;
    if (numeric(a) && numeric(b)) {
        int64_t x = a->i, y = b->i, r = 0;
        bool over = false;
        if (op == '+')
            over = __builtin_add_overflow(x, y, &r);
        else if (op == '-')
            over = __builtin_sub_overflow(x, y, &r);
        else if (op == '*')
            over = __builtin_mul_overflow(x, y, &r);
        else if (y == 0) {
            fail(ps, ZERO_DIV, "divide by zero");
            return false;
        } else if (x == INT64_MIN && y == -1) {
            over = true;
        } else if (op == '/') {
            r = x / y;
            if (x % y != 0 && ((x < 0) != (y < 0)))
                r--;   /* Python floors */
        } else {
            r = x % y;
            if (r != 0 && ((r < 0) != (y < 0)))
                r += y;   /* the sign of the divisor */
        }
        if (over) {
            fail(ps, OVERFLOW, "int");
            return false;
        }
        a->kind = V_INT;
        a->i = r;
        return true;
    }
    if (op == '+' && a->kind == V_STR && b->kind == V_STR) {
        if (a->len + b->len + 1 > sizeof a->s) {
            fail(ps, OVERFLOW, "string");
            return false;
        }
        memcpy(a->s + a->len, b->s, b->len);
        a->len += b->len;
        a->s[a->len] = '\0';
        return true;
    }
    if (op == '*' && a->kind == V_STR && numeric(b))
        return repeat_str(ps, a, b->i, a);
    if (op == '*' && numeric(a) && b->kind == V_STR)
        return repeat_str(ps, b, a->i, a);
    fail(ps, TYPE, "unsupported types for %s: '%s', '%s'", op_method(op), type_name(a->kind),
         type_name(b->kind));
    return false;
}

static bool parse_unary(struct parser *ps, struct value *v)
{
    skip_space(ps);
    if (accept(ps, "-") || accept(ps, "+")) {
        char op = ps->p[-1];
        if (!parse_unary(ps, v))
            return false;
        if (!ps->run)
            return true;
        if (!numeric(v)) {
            fail(ps, TYPE, "unsupported type for %s: '%s'", op == '-' ? "__neg__" : "__pos__",
                 type_name(v->kind));
            return false;
        }
        if (op == '-' && v->i == INT64_MIN) {
            fail(ps, OVERFLOW, "int");
            return false;
        }
        v->kind = V_INT;
        v->i = op == '-' ? -v->i : v->i;
        return true;
    }
    if (!parse_atom(ps, v))
        return false;
    skip_space(ps);
    if (ps->p < ps->end && (*ps->p == '(' || *ps->p == '[' || *ps->p == '.')) {
        fail(ps, SYNTAX, "postfix");   /* calls on values, indexing, attributes: outside */
        return false;
    }
    return true;
}

static bool parse_term(struct parser *ps, struct value *v)
{
    if (!parse_unary(ps, v))
        return false;
    for (;;) {
        char op;
        skip_space(ps);
        if (accept(ps, "**") || accept(ps, "/=") || accept(ps, "*=") || accept(ps, "%=")) {
            fail(ps, SYNTAX, "operator");   /* outside the model */
            return false;
        }
        if (accept(ps, "//"))
            op = '/';
        else if (accept(ps, "*"))
            op = '*';
        else if (accept(ps, "%"))
            op = '%';
        else if (ps->p < ps->end && *ps->p == '/') {
            fail(ps, SYNTAX, "operator");   /* true division gives a float: outside */
            return false;
        } else
            return true;
        struct value rhs;
        if (!parse_unary(ps, &rhs) || !apply(ps, op, v, &rhs))
            return false;
    }
}

static bool parse_expr(struct parser *ps, struct value *v)
{
    if (!parse_term(ps, v))
        return false;
    for (;;) {
        char op;
        if (accept(ps, "+="))
            op = 0;
        else if (accept(ps, "-="))
            op = 0;
        else if (accept(ps, "+"))
            op = '+';
        else if (accept(ps, "-"))
            op = '-';
        else
            return true;
        struct value rhs;
        if (op == 0) {
            fail(ps, SYNTAX, "operator");
            return false;
        }
        if (!parse_term(ps, &rhs) || !apply(ps, op, v, &rhs))
            return false;
    }
}

/* ---- the line ----------------------------------------------------------------------------- */

static void put(char *out, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

/* repr() of a string: single quotes unless it holds one and no double quote. */
static void put_repr(char *out, size_t cap, size_t *len, const struct value *v)
{
    char q = memchr(v->s, '\'', v->len) && !memchr(v->s, '"', v->len) ? '"' : '\'';
    put(out, cap, len, "%c", q);
    for (size_t k = 0; k < v->len; k++) {
        unsigned char c = (unsigned char)v->s[k];
        if (c == '\n')
            put(out, cap, len, "\\n");
        else if (c == '\r')
            put(out, cap, len, "\\r");
        else if (c == '\t')
            put(out, cap, len, "\\t");
        else if (c == '\\' || c == (unsigned char)q)
            put(out, cap, len, "\\%c", c);
        else if (c < 0x20 || c >= 0x7F)
            put(out, cap, len, "\\x%02x", c);
        else
            put(out, cap, len, "%c", c);
    }
    put(out, cap, len, "%c", q);
}

static bool blank(const char *line, size_t len)
{
    for (size_t k = 0; k < len; k++)
        if (line[k] != ' ' && line[k] != '\t')
            return false;
    return true;
}

size_t repl_eval(const char *line, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    /* A comment ends the line; an empty line runs nothing. */
    const char *hash = memchr(line, '#', len);
    if (hash && !memchr(line, '\'', (size_t)(hash - line)) &&
        !memchr(line, '"', (size_t)(hash - line)))
        len = (size_t)(hash - line);
    if (blank(line, len))
        return 0;
    /* A line indented at the prompt is an IndentationError in Python; MicroPython reports
     * it as a SyntaxError too ("unexpected indent"). */
    struct parser ps = { .p = line, .end = line + len, .run = false };
    struct value v;
    bool indented = line[0] == ' ' || line[0] == '\t';
    if (!indented && parse_expr(&ps, &v)) {
        skip_space(&ps);
        if (ps.p != ps.end)
            fail(&ps, SYNTAX, "trailing");
    } else if (indented) {
        fail(&ps, SYNTAX, "indent");
    }
    if (ps.failed == SYNTAX) {
        put(out, cap, &n, "Traceback (most recent call last):\r\n  File \"<stdin>\", line 1\r\n"
            "SyntaxError: %s\r\n", indented ? "unexpected indent" : "invalid syntax");
        return n;
    }
    /* It parses: run it, print() writing straight into out. */
    struct parser run = { .p = line, .end = line + len, .run = true, .out = out,
                          .out_cap = cap - 1 };
    bool ok = parse_expr(&run, &v);
    n = run.out_len;
    out[n] = '\0';
    if (!ok) {
        put(out, cap, &n, "Traceback (most recent call last):\r\n"
            "  File \"<stdin>\", line 1, in <module>\r\n");
        switch (run.failed) {
        case NAME:
            put(out, cap, &n, "NameError: name '%s' isn't defined\r\n", run.detail);
            break;
        case ZERO_DIV:
            put(out, cap, &n, "ZeroDivisionError: divide by zero\r\n");
            break;
        case TYPE:
            put(out, cap, &n, "TypeError: %s\r\n", run.detail);
            break;
        default:
            put(out, cap, &n, "OverflowError: espsim's REPL model stops at 64-bit values\r\n");
            break;
        }
        return n;
    }
    switch (v.kind) {   /* the REPL echoes a value that is not None */
    case V_NONE:
        break;
    case V_INT:
        put(out, cap, &n, "%" PRId64 "\r\n", v.i);
        break;
    case V_BOOL:
        put(out, cap, &n, "%s\r\n", v.i ? "True" : "False");
        break;
    case V_STR:
        put_repr(out, cap, &n, &v);
        put(out, cap, &n, "\r\n");
        break;
    case V_FUNC:
        put(out, cap, &n, "<function>\r\n");
        break;
    }
    return n;
}
