/*
 * Internal model of the policy module: the structs the declared tables fill
 * from one YAML file (pol_*), and the compiled, merged form that evaluation
 * walks (pl__*). Shared by load.c, schema.c, eval.c, format.c and cases.c.
 */
#ifndef PARLEY_POLICY_INTERNAL_H
#define PARLEY_POLICY_INTERNAL_H

#include "parley/config.h"
#include "parley/policy.h"
#include "parley/yaml.h"

#include <pthread.h>
#include <unicode/uregex.h>
#include <unicode/utypes.h>

/* Limits for what one policy may hold; they keep evaluation bounded. */
#define PL_POLICY_MAX_CHAIN 16
#define PL_POLICY_MAX_TEXT (64u * 1024) /* bytes of one evaluated message */
#define PL_POLICY_MAX_LOCALE 96

/* ---- What the tables parse from one file ---- */

typedef struct pol_escalate {
    int present;
    int priority; /* index into pl__priorities */
    const char *reason;
} pol_escalate;

typedef struct pol_message {
    int present;
    const char *channel; /* redirect only */
    const char *message;
} pol_message;

typedef struct pol_mask {
    int present;
    const char *with;
} pol_mask;

typedef struct pol_then {
    pol_escalate escalate;
    pol_message redirect;
    pol_message block;
    pol_mask mask;
    pl_cfg_strings tag;
    pl_cfg_strings instruct;
} pol_then;

typedef struct pol_cond {
    const pl_yaml_node *node; /* the mapping, for positions; NULL if absent */
    pl_cfg_strings terms;
    pl_cfg_strings regex;
    int absolute_words;
    int shouting;
    int64_t punctuation_run;
    int64_t repeated_complaints;
    pl_cfg_list any; /* of pol_cond */
    pl_cfg_list all; /* of pol_cond */
} pol_cond;

typedef struct pol_rule {
    const pl_yaml_node *node;
    const char *id;
    int direction; /* index into pl__directions */
    pol_cond when;
    pol_then then;
    int stop;
} pol_rule;

typedef struct pol_protect {
    const pl_yaml_node *node;
    const char *id;
    const char *pattern;
    const char *description;
} pol_protect;

typedef struct pol_fix {
    const pl_yaml_node *node;
    const char *id;
    pl_cfg_strings find;
    const char *pattern;
    const char *replace;
    const char *also;
    const char *flag;
} pol_fix;

typedef struct pol_register {
    int formality; /* -1: inherited */
    int address;
    int honorific_self;
    int honorific_customer;
    int speech_level;
    pl_cfg_strings instructions;
} pol_register;

typedef struct pol_dialect {
    const char *variety;
    const char *description;
} pol_dialect;

typedef struct pol_glossary {
    pl_cfg_strings keep;
    pl_cfg_map translate; /* of strings */
} pol_glossary;

typedef struct pol_signals {
    pl_cfg_strings absolute_words;
    int64_t caps_percent;
    int64_t min_letters;
    int64_t punctuation_run;
} pol_signals;

typedef struct pol_plural {
    const char *variants[6]; /* zero, one, two, few, many, other */
} pol_plural;

typedef struct pol_format {
    int calendar; /* -1: inherited */
    int numbers;
    int date;
    const char *currency;
    pl_cfg_map plurals; /* of pol_plural */
} pol_format;

typedef struct pol_file {
    const char *locale;
    const char *inherits;
    const char *description;
    pl_cfg_strings aliases;
    pol_register reg;
    pol_dialect dialect;
    pol_glossary glossary;
    pol_signals signals;
    pol_format format;
    pl_cfg_list protect; /* pol_protect */
    pl_cfg_list rules;   /* pol_rule */
    pl_cfg_strings disable;
    pl_cfg_list fixes; /* pol_fix */
} pol_file;

extern const pl_cfg_section pl__policy_file_section;
extern const char *const pl__directions[];   /* in, out, both */
extern const char *const pl__priorities[];   /* low, normal, high, urgent */
extern const char *const pl__formalities[];
extern const char *const pl__addresses[];
extern const char *const pl__honorifics[];
extern const char *const pl__speech_levels[];
extern const char *const pl__calendars[];
extern const char *const pl__numbering[];
extern const char *const pl__date_styles[];
extern const char *const pl__plural_forms[]; /* zero one two few many other */

/* ---- Compiled form ---- */

/* A compiled ICU regex with a pool of clones: one URegularExpression may be
 * used by one thread at a time, so evaluation borrows a clone. */
typedef struct pl__regex {
    const char *source;
    URegularExpression *re;
    pthread_mutex_t lock;
    URegularExpression *spare[8];
    size_t nspare;
} pl__regex;

/* A word break iterator prototype for a locale with a pool of clones. */
typedef struct pl__brk {
    void *proto; /* UBreakIterator */
    pthread_mutex_t lock;
    void *spare[8];
    size_t nspare;
} pl__brk;

typedef struct pl__term {
    const char *text; /* as written */
    UChar *folded;    /* NFKC + case folded, UTF-16 */
    int32_t len;
} pl__term;

typedef struct pl__cond {
    pl__term *terms;
    size_t nterms;
    pl__regex **regex;
    size_t nregex;
    int absolute_words;
    int shouting;
    int punctuation_run;
    int repeated_complaints;
    struct pl__cond *any;
    size_t nany;
    struct pl__cond *all;
    size_t nall;
} pl__cond;

typedef struct pl__rule {
    const char *id;
    const char *file;
    unsigned line, column;
    int direction; /* PL_POLICY_IN/OUT/BOTH */
    int stop;
    int has_when;
    pl__cond when;
    const pol_then *then;
} pl__rule;

typedef struct pl__fix {
    const char *id;
    const char *file;
    unsigned line;
    const pol_fix *src;
    pl__regex *pattern; /* NULL for `find` fixes */
    pl__regex *also;
} pl__fix;

typedef struct pl__protect {
    const char *id;
    pl__regex *re;
} pl__protect;

/* One loaded file. */
typedef struct pl__file {
    pl_yaml_doc doc;
    pol_file cfg;
    const char *path;
    const char *tag; /* from the file name */
    int ok;          /* parsed without errors */
    pl__rule *rules;
    size_t nrules;
    pl__fix *fixes;
    size_t nfixes;
    pl__protect *protect;
    size_t nprotect;
    struct pl__file *parent;
    int visiting, resolved; /* chain resolution */
} pl__file;

typedef struct pl__plural {
    const char *name;
    const pol_plural *forms;
} pl__plural;

struct pl_policy {
    const pl_policy_set *set;
    pl__file *file;
    const char *locale;     /* BCP 47 as in the file name */
    char icu_locale[PL_POLICY_MAX_LOCALE]; /* ar_SA */
    char fmt_locale[PL_POLICY_MAX_LOCALE * 2]; /* ar_SA@calendar=...;numbers=... */
    const char **chain;
    size_t nchain;
    pl_policy_directives directives;
    const pl__rule **rules;
    size_t nrules;
    const pl__fix **fixes;
    size_t nfixes;
    const pl__protect **protect;
    size_t nprotect;
    pl__term *absolute;
    size_t nabsolute;
    int caps_percent, min_letters, punctuation_run;
    int calendar, numbers, date_style;
    const char *currency;
    pl__plural *plurals;
    size_t nplurals;
    pl__brk *brk;
};

struct pl_policy_set {
    pl_arena arena;
    pl__file **files;
    size_t nfiles;
    pl_policy *policies; /* sorted by locale */
    size_t count;
    pl__regex **regexes; /* every compiled regex, for freeing */
    size_t nregexes, capregexes;
};

/* load.c */
int pl__regex_compile(pl_policy_set *set, const char *source, pl__regex **out);

/* schema.c: validation helpers shared with the loader. */
int pl__locale_check(const char *tag, char *icu, size_t size);
int pl__regex_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node);

/* eval.c */
URegularExpression *pl__regex_borrow(pl__regex *r);
void pl__regex_return(pl__regex *r, URegularExpression *re);
int pl__fold_term(pl_arena *arena, const char *text, UChar **out, int32_t *len);
int pl__brk_open(pl_policy_set *set, pl_policy *p);
void pl__brk_free(pl__brk *b);

#endif
