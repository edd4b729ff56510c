/*
 * Varieties (dialects) of a detected language from reviewable marker files
 * in locales/varieties/<lang>.txt, plus hints whose region names a variety.
 * A variety is reported only when markers or hints support it.
 *
 * File format, one marker per line ('#' starts a comment):
 *   <variety> <weight> <pattern>      pattern: word, "two words", pre*, *suffix
 *   @match substring                  patterns match anywhere (no word breaks: Chinese)
 *   @override <variety> <min>         this variety wins once its score reaches min
 *   @chars <file> <weight>            "<variety> <characters>" lines: each such
 *                                     character in the text adds <weight>
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <unicode/uchar.h>
#include <unicode/uloc.h>
#include <unicode/uscript.h>

#include "markers.h"
#include "parley/text.h"

#define LINE_MAX_LEN 1024

/* Spelling variants that carry no dialect information are folded away. */
static UChar32 fold_cp(UChar32 c)
{
    switch (c) {
    case 0x0623: case 0x0625: case 0x0622: case 0x0671:
        return 0x0627; /* alef with hamza or madda -> bare alef */
    case 0x0649:
        return 0x064A; /* alef maqsura -> ya */
    case 0x0629:
        return 0x0647; /* ta marbuta -> ha */
    case 0x06CC:
        return 0x064A; /* Persian ya, common on Arabic keyboards */
    default:
        return u_tolower(c);
    }
}

static size_t put_utf8(char *o, UChar32 c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12));
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18));
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/*
 * Which byte pairs occur in a normalized text, hashed into 4096 bits. A
 * marker needs every one of its byte pairs present before strstr() runs;
 * most markers of a list fail that test, which makes matching a few hundred
 * markers against a short message cheap.
 */
static unsigned pair_hash(const char *p)
{
    return (((unsigned char)p[0] * 31u) ^ ((unsigned char)p[1] * 0x9E5u)) & 4095u;
}

static uint64_t pair_set_build(uint64_t *bits, const char *norm, size_t n)
{
    uint64_t sig = 0;
    memset(bits, 0, 64 * sizeof *bits);
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned h = pair_hash(norm + i);
        bits[h >> 6] |= 1ull << (h & 63);
        sig |= 1ull << (h & 63);
    }
    return sig;
}

static uint64_t needle_sig(const char *needle)
{
    uint64_t sig = 0;
    for (const char *p = needle; p[0] && p[1]; p++)
        sig |= 1ull << (pair_hash(p) & 63);
    return sig;
}

/* The 64-bit signatures turn most markers away with one test on a short
 * message; the 4,096-bit set and strstr() decide the rest. */
static bool contains_slow(const pl__marktext *mt, const pl__marker *mk)
{
    const char *needle = mk->needle;
    for (const char *p = needle; p[0] && p[1]; p++) {
        unsigned h = pair_hash(p);
        if (!(mt->pairs[h >> 6] & (1ull << (h & 63))))
            return false;
    }
    return strstr(mt->norm, needle) != NULL;
}

/* Inline: most markers stop at the signature test. */
static inline bool contains(const pl__marktext *mt, const pl__marker *mk)
{
    return !(mk->sig & ~mt->sig) && contains_slow(mt, mk);
}

/*
 * A word break in the normalized text at out[o]: one space, after the
 * word that began at *start, which a message's marktext records with its
 * hash (the first PL__MARK_WORDS words; rest is where the others begin).
 */
static size_t word_break(char *out, size_t o, size_t *start, pl__marktext *mt)
{
    if (out[o - 1] == ' ')
        return o;
    if (mt != NULL && mt->nwords < PL__MARK_WORDS) {
        mt->words[mt->nwords].off = (uint16_t)*start;
        mt->words[mt->nwords].len = (uint16_t)(o - *start);
        mt->words[mt->nwords].hash = pl__word_hash(out + *start, o - *start);
        mt->nwords++;
    } else if (mt != NULL && mt->rest == 0) {
        mt->rest = *start;
    }
    out[o++] = ' ';
    *start = o;
    return o;
}

/*
 * Writes " word word " (lower-case letters, marks and tatweel dropped,
 * everything else a single space) into out (cap bytes). Returns the length.
 * d and mt are NULL for the marker files' own patterns; for a message, mt
 * gets its words as they are written.
 */
static size_t normalize_words(const pl_detector *d, pl__marktext *mt, const char *s,
                              size_t len, char *out, size_t cap)
{
    size_t i = 0, o = 0, start = 1;
    out[o++] = ' ';
    while (i < len && o + 6 < cap) {
        if ((unsigned char)s[i] < 0x80) {
            /* ASCII: a letter or a word break, without the ICU lookups. */
            char b = s[i++];
            if ((unsigned)((b | 0x20) - 'a') < 26)
                out[o++] = (char)(b | 0x20);
            else
                o = word_break(out, o, &start, mt);
            continue;
        }
        /* A message has been validated by the detector; a marker file's
         * pattern has not. */
        UChar32 c = d ? pl__next_cp(s, &i) : pl_text_next_cp(s, len, &i);
        if (c < 0)
            break;
        if (c == 0x0640)
            continue;
        /* Letters and word breaks from the detector's character table
         * (straight from ICU while loading, before the table exists); only
         * marks need more. */
        uint32_t info = d ? pl__char(d, c) : pl__char_compute(c);
        if (info & PL__CH_LETTER) {
            UChar32 f = c >= 0x0600 && c <= 0x06FF ? fold_cp(c) : pl__char_lower(c, info);
            o += put_utf8(out + o, f);
            continue;
        }
        if (!(info & PL__CH_MARK)) {
            o = word_break(out, o, &start, mt);
            continue;
        }
        int8_t t = u_charType(c);
        if (t == U_NON_SPACING_MARK) {
            /* Arabic and Hebrew vowel marks are optional; Indic ones are letters' vowels. */
            UErrorCode st = U_ZERO_ERROR;
            UScriptCode sc = uscript_getScript(c, &st);
            if (sc == USCRIPT_INHERITED && o > 1) {
                /* A shared mark (U+064B..U+065F are Inherited): look at the base before it. */
                size_t back = o;
                while (back > 0 && ((unsigned char)out[back - 1] & 0xC0) == 0x80)
                    back--;
                if (back > 0)
                    back--;
                size_t k = back;
                UChar32 base = pl_text_next_cp(out, o, &k);
                sc = base >= 0 ? uscript_getScript(base, &st) : USCRIPT_COMMON;
            }
            if (U_FAILURE(st) || sc == USCRIPT_ARABIC || sc == USCRIPT_HEBREW ||
                sc == USCRIPT_SYRIAC)
                continue;
            o += put_utf8(out + o, c);
        } else if (t == U_COMBINING_SPACING_MARK) {
            o += put_utf8(out + o, c);
        } else {
            o = word_break(out, o, &start, mt);
        }
    }
    o = word_break(out, o, &start, mt);
    out[o] = '\0';
    return o;
}

void pl__marktext_ready(pl__marktext *mt)
{
    if (mt->ready)
        return;
    /* Each word once, for all the marker files: its place and its hash. */
    mt->nwords = 0;
    mt->rest = 0;
    mt->n = normalize_words(mt->d, mt, mt->text, mt->len, mt->norm, sizeof mt->norm);
    if (mt->rest == 0)
        mt->rest = mt->n;
    mt->pairs_ready = false;
    mt->ready = true;
}

/* The byte-pair set, built only when a marker other than a word is tested. */
static void marktext_pairs(pl__marktext *mt)
{
    if (mt->pairs_ready)
        return;
    mt->sig = pair_set_build(mt->pairs, mt->norm, mt->n);
    mt->pairs_ready = true;
}

bool pl__marker_in_text(pl__marktext *mt, const pl__marker *mk)
{
    marktext_pairs(mt);
    return contains(mt, mk);
}

bool pl__word_needle(const char *needle, size_t *wlen)
{
    size_t n = strlen(needle);
    if (n < 3 || needle[0] != ' ' || needle[n - 1] != ' ' ||
        memchr(needle + 1, ' ', n - 2) != NULL)
        return false;
    *wlen = n - 2;
    return true;
}

/* Builds the word table and the list of other markers; once, after load. */
static int index_markers(pl__vfile *f, pl_error *err)
{
    size_t nwords = 0, wlen;
    for (size_t i = 0; i < f->nmarkers; i++)
        nwords += pl__word_needle(f->markers[i].needle, &wlen);
    f->word_size = 16;
    while (f->word_size < 2 * nwords)
        f->word_size *= 2;
    f->word_hash = calloc(f->word_size, sizeof *f->word_hash);
    f->word_slot = calloc(f->word_size, sizeof *f->word_slot);
    f->others = malloc((f->nmarkers - nwords + 1) * sizeof *f->others);
    if (f->word_hash == NULL || f->word_slot == NULL || f->others == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    for (size_t i = 0; i < f->nmarkers; i++) {
        if (!pl__word_needle(f->markers[i].needle, &wlen)) {
            f->others[f->nothers++] = (uint32_t)i;
            continue;
        }
        uint32_t h = pl__word_hash(f->markers[i].needle + 1, wlen);
        size_t slot = h & (f->word_size - 1);
        while (f->word_slot[slot])
            slot = (slot + 1) & (f->word_size - 1);
        f->word_hash[slot] = h;
        f->word_slot[slot] = (uint32_t)i + 1;
    }
    return 0;
}

/*
 * Calls found() once for each marker of f that the text contains: each word
 * of the text is looked up in the word table, the other markers are tested
 * one by one.
 */
static void match_markers(const pl__vfile *f, pl__marktext *mt,
                          void (*found)(const pl__marker *mk, void *ctx), void *ctx)
{
    uint64_t seen[PL__MARKERS_MAX / 64];
    memset(seen, 0, (f->nmarkers + 63) / 64 * sizeof seen[0]);
    pl__marktext_ready(mt);
    pl__word_iter it = {0, NULL};
    const char *word;
    size_t n;
    uint32_t h;
    while (pl__marktext_next_word(mt, &it, &word, &n, &h)) {
        for (size_t slot = h & (f->word_size - 1); f->word_slot[slot];
             slot = (slot + 1) & (f->word_size - 1)) {
            uint32_t m = f->word_slot[slot] - 1;
            const char *needle = f->markers[m].needle;
            if (f->word_hash[slot] != h || strncmp(needle + 1, word, n) != 0 ||
                needle[n + 1] != ' ')
                continue;
            if (!(seen[m / 64] & (1ull << (m % 64)))) {
                seen[m / 64] |= 1ull << (m % 64);
                found(&f->markers[m], ctx);
            }
        }
    }
    if (f->nothers > 0)
        marktext_pairs(mt);
    for (size_t k = 0; k < f->nothers; k++)
        if (contains(mt, &f->markers[f->others[k]]))
            found(&f->markers[f->others[k]], ctx);
}

static int variety_index(pl__vfile *f, const char *name, int add)
{
    for (int i = 0; i < f->nvar; i++)
        if (strcmp(f->names[i], name) == 0)
            return i;
    if (!add || f->nvar == PL__VARIETIES_MAX || strlen(name) >= sizeof f->names[0])
        return -1;
    snprintf(f->names[f->nvar], sizeof f->names[0], "%s", name);
    return f->nvar++;
}

static int cmp_cp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int load_chars(pl__vfile *f, const char *dir, const char *name, double weight,
                      pl_error *err)
{
    char path[4096], *line = NULL;
    size_t lcap = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return pl_error_set(err, PL_ENOENT, "%s: %s", path, strerror(errno));
    unsigned lineno = 0;
    int rc = 0;
    while (getline(&line, &lcap, fp) >= 0) {
        lineno++;
        char *p = line, *var;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        var = strsep(&p, " \t");
        int v = var ? variety_index(f, var, 1) : -1;
        if (v < 0 || p == NULL || f->nsets == PL__VARIETIES_MAX) {
            rc = pl_error_set_at(err, PL_ESYNTAX, path, lineno, 1, "expected '<variety> <characters>'");
            break;
        }
        pl__char_set *cs = &f->sets[f->nsets++];
        size_t len = strlen(p), i = 0;
        cs->variety = v;
        cs->weight = weight;
        cs->cps = malloc((len + 1) * sizeof *cs->cps);
        if (cs->cps == NULL) {
            rc = pl_error_set(err, PL_ENOMEM, "out of memory");
            break;
        }
        while (i < len) {
            int32_t c = pl_text_next_cp(p, len, &i);
            if (c < 0) {
                rc = pl_error_set_at(err, PL_EUTF8, path, lineno, 1, "invalid UTF-8");
                break;
            }
            if (c > ' ')
                cs->cps[cs->n++] = c;
        }
        if (rc < 0)
            break;
        qsort(cs->cps, cs->n, sizeof *cs->cps, cmp_cp);
    }
    free(line);
    fclose(fp);
    return rc;
}

static int add_marker(pl__vfile *f, int v, double w, const char *pattern, pl_error *err)
{
    char norm[LINE_MAX_LEN * 2];
    size_t plen = strlen(pattern);
    int pre = 0, suf = 0;
    if (plen > 1 && pattern[plen - 1] == '*') {
        pre = 1;
        plen--;
    }
    if (plen > 1 && pattern[0] == '*') {
        suf = 1;
        pattern++;
        plen--;
    }
    size_t n = normalize_words(NULL, NULL, pattern, plen, norm, sizeof norm);
    /* norm is " word "; a prefix keeps only the leading edge, a suffix the trailing one. */
    char *start = norm;
    if (f->substring || suf) {
        start++;
        n--;
    }
    if (f->substring || pre) {
        start[n - 1] = '\0';
        n--;
    }
    if (strspn(start, " ") == n)
        return 1; /* no letters: nothing to match */
    pl__marker *nm = realloc(f->markers, (f->nmarkers + 1) * sizeof *nm);
    if (nm == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    f->markers = nm;
    pl__marker *mk = &f->markers[f->nmarkers];
    mk->variety = v;
    mk->weight = w;
    mk->needle = strdup(start);
    if (mk->needle == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    mk->sig = needle_sig(mk->needle);
    f->nmarkers++;
    return 0;
}

static int load_file(pl__vfile *f, const char *dir, const char *name, pl_error *err)
{
    char path[4096], line[LINE_MAX_LEN];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return pl_error_set(err, PL_EIO, "%s: %s", path, strerror(errno));
    snprintf(f->lang, sizeof f->lang, "%.*s", (int)(strchr(name, '.') - name), name);
    f->override_var = -1;
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *p = line, *tok[3];
        int nt = 0;
        while (nt < 3) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0' || *p == '\n')
                break;
            tok[nt++] = p;
            if (nt == 3)
                break;
            while (*p && *p != ' ' && *p != '\t' && *p != '\n')
                p++;
            if (*p)
                *p++ = '\0';
        }
        if (nt == 0)
            continue;
        if (nt == 3) {
            /* The pattern runs to the end of the line; trim trailing space. */
            size_t l = strlen(tok[2]);
            while (l > 0 && isspace((unsigned char)tok[2][l - 1]))
                tok[2][--l] = '\0';
        }
        char *end = NULL;
        if (strcmp(tok[0], "@match") == 0 && nt >= 2 && strncmp(tok[1], "substring", 9) == 0) {
            f->substring = 1;
        } else if (strcmp(tok[0], "@override") == 0 && nt == 3) {
            f->override_var = variety_index(f, tok[1], 1);
            f->override_min = strtod(tok[2], &end);
            if (f->override_var < 0 || end == tok[2])
                rc = pl_error_set_at(err, PL_ESYNTAX, path, lineno, 1, "bad @override");
        } else if (strcmp(tok[0], "@chars") == 0 && nt == 3) {
            char *file = tok[1];
            double w = strtod(tok[2], &end);
            if (end == tok[2] || strchr(file, '/'))
                rc = pl_error_set_at(err, PL_ESYNTAX, path, lineno, 1, "bad @chars");
            else
                rc = load_chars(f, dir, file, w, err);
        } else if (nt == 3 && tok[0][0] != '@') {
            int v = variety_index(f, tok[0], 1);
            double w = strtod(tok[1], &end);
            if (v < 0)
                rc = pl_error_set_at(err, PL_ESYNTAX, path, lineno, 1,
                                     "too many varieties or name too long: '%s'", tok[0]);
            else if (end == tok[1] || *end != '\0' || !(w > 0.0 && w <= 10.0))
                rc = pl_error_set_at(err, PL_ESYNTAX, path, lineno,
                                     (unsigned)(tok[1] - line) + 1,
                                     "weight must be a number in (0, 10]");
            else if ((rc = add_marker(f, v, w, tok[2], err)) == 1)
                rc = pl_error_set_at(err, PL_ESYNTAX, path, lineno,
                                     (unsigned)(tok[2] - line) + 1, "empty pattern");
        } else {
            rc = pl_error_set_at(err, PL_ESYNTAX, path, lineno, 1,
                                 "expected '<variety> <weight> <pattern>'");
        }
    }
    fclose(fp);
    if (rc == 0 && f->nmarkers > PL__MARKERS_MAX)
        rc = pl_error_set(err, PL_ELIMIT, "%s: more than %d markers", path, PL__MARKERS_MAX);
    if (rc == 0)
        rc = index_markers(f, err);
    return rc;
}

static void free_file(pl__vfile *f)
{
    free(f->word_hash);
    free(f->word_slot);
    free(f->others);
    for (size_t i = 0; i < f->nmarkers; i++)
        free(f->markers[i].needle);
    free(f->markers);
    for (int i = 0; i < f->nsets; i++)
        free(f->sets[i].cps);
}

void pl__varieties_free(pl__varieties *v)
{
    if (v == NULL)
        return;
    pl__words_index_free(v->index);
    for (size_t i = 0; i < v->nfiles; i++)
        free_file(&v->files[i]);
    free(v->files);
    free(v);
}

int pl__varieties_load(const char *dir, pl__varieties **out, pl_error *err)
{
    pl__varieties *v = calloc(1, sizeof *v);
    int rc = 0;
    if (v == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        /* The model alone still identifies languages; varieties stay null. */
        *out = v;
        return 0;
    }
    struct dirent *de;
    while (rc == 0 && (de = readdir(dp)) != NULL) {
        size_t l = strlen(de->d_name);
        /* <lang>.txt or <lang>-<lang>.txt; character tables (*-chars.txt) are
         * loaded by the file that names them. */
        if (l < 5 || l > 12 || strcmp(de->d_name + l - 4, ".txt") != 0 ||
            strstr(de->d_name, "-chars.txt"))
            continue;
        pl__vfile *nf = realloc(v->files, (v->nfiles + 1) * sizeof *nf);
        if (nf == NULL) {
            rc = pl_error_set(err, PL_ENOMEM, "out of memory");
            break;
        }
        v->files = nf;
        memset(&v->files[v->nfiles], 0, sizeof *nf);
        rc = load_file(&v->files[v->nfiles++], dir, de->d_name, err);
    }
    closedir(dp);
    if (rc < 0) {
        pl__varieties_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* Region -> variety, for hints. An empty region matches any other region. */
static const struct {
    const char *lang, *regions, *variety;
} region_varieties[] = {
    {"es", "ES", "es-ES"}, {"es", "", "es-419"},
    {"pt", "BR", "pt-BR"}, {"pt", "", "pt-PT"},
    {"en", "US PR", "en-US"}, {"en", "GB IE AU NZ IN ZA", "en-GB"},
    {"fr", "CA", "fr-CA"}, {"fr", "", "fr-FR"},
    {"zh", "TW HK MO", "zh-Hant"}, {"zh", "CN SG", "zh-Hans"},
    {"ar", "EG SD", "arz"}, {"ar", "SA AE KW QA BH OM", "afb"},
    {"ar", "SY LB JO PS", "apc"}, {"ar", "MA DZ TN LY", "ary"},
};

/* The variety of `lang` a hint points to, or NULL. */
static const char *hint_variety(const pl__vfile *f, const char *lang, pl_detect_hint_kind kind,
                                const char *value)
{
    char loc[ULOC_FULLNAME_CAPACITY], region[8] = "", script[8] = "", hl[12];
    UErrorCode st = U_ZERO_ERROR;

    /* A variety name itself ("es-419", "arz", "zh-Hant"). */
    for (int i = 0; i < f->nvar; i++)
        if (strcasecmp(value, f->names[i]) == 0)
            return f->names[i];
    if (kind == PL_HINT_REGION && strlen(value) == 2 && isalpha((unsigned char)value[0]))
        snprintf(region, sizeof region, "%c%c", toupper((unsigned char)value[0]),
                 toupper((unsigned char)value[1]));
    else {
        uloc_forLanguageTag(value, loc, sizeof loc, NULL, &st);
        if (U_FAILURE(st))
            return NULL;
        pl__locale_language(loc, hl, sizeof hl);
        if (strcmp(hl, lang) != 0)
            return NULL;
        uloc_getCountry(loc, region, sizeof region, &st);
        uloc_getScript(loc, script, sizeof script, &st);
        if (U_FAILURE(st))
            return NULL;
    }
    if (strcmp(lang, "zh") == 0 && script[0])
        return strcmp(script, "Hant") == 0 ? "zh-Hant" : "zh-Hans";
    if (region[0] == '\0')
        return NULL;
    for (size_t i = 0; i < sizeof region_varieties / sizeof region_varieties[0]; i++) {
        if (strcmp(region_varieties[i].lang, lang) != 0)
            continue;
        const char *rs = region_varieties[i].regions;
        if (rs[0] == '\0')
            return region_varieties[i].variety;
        for (const char *p = rs; (p = strstr(p, region)) != NULL; p++)
            if ((p == rs || p[-1] == ' ') && (p[2] == ' ' || p[2] == '\0'))
                return region_varieties[i].variety;
    }
    return NULL;
}

/* How much a hint of each kind counts, in the same units as marker weights. */
static double hint_bonus(pl_detect_hint_kind kind)
{
    switch (kind) {
    case PL_HINT_CONVERSATION:
        return 1.5;
    case PL_HINT_LOCALE:
        return 1.0;
    case PL_HINT_ACCEPT_LANGUAGE:
        return 0.8;
    case PL_HINT_REGION:
        return 0.6;
    case PL_HINT_ONLY:
        return 0.0; /* names languages, not varieties */
    }
    return 0.0;
}

static int in_set(const pl__char_set *cs, int32_t c)
{
    return bsearch(&c, cs->cps, cs->n, sizeof c, cmp_cp) != NULL;
}

static void add_variety_weight(const pl__marker *mk, void *ctx)
{
    ((double *)ctx)[mk->variety] += mk->weight;
}

void pl__varieties_bind(pl__varieties *v, const pl__model *m)
{
    for (uint32_t l = 0; v && l < m->nlangs; l++) {
        v->file_of[l] = 0;
        for (size_t i = 0; i < v->nfiles && i < UINT8_MAX; i++)
            if (strcmp(v->files[i].lang, m->langs[l].code) == 0)
                v->file_of[l] = (uint8_t)(i + 1);
    }
}

void pl__varieties_decide(const pl__varieties *v, uint8_t lang_index, pl__marktext *mt,
                          const pl_detect_hint *hints, size_t nhints,
                          pl_detect_result *out)
{
    double text_score[PL__VARIETIES_MAX], total[PL__VARIETIES_MAX];
    const char *text = mt->text, *lang = out->language;
    size_t len = mt->len;

    if (v == NULL || v->file_of[lang_index] == 0)
        return;
    const pl__vfile *f = &v->files[v->file_of[lang_index] - 1];
    if (f->nvar == 0)
        return;
    for (int i = 0; i < f->nvar; i++)
        text_score[i] = total[i] = 0.0;
    match_markers(f, mt, add_variety_weight, text_score);
    for (int k = 0; k < f->nsets; k++) {
        size_t i = 0;
        while (i < len) {
            int32_t c = pl_text_next_cp(text, len, &i);
            if (c >= 0x2E80 && in_set(&f->sets[k], c))
                text_score[f->sets[k].variety] += f->sets[k].weight;
        }
    }
    for (int i = 0; i < f->nvar; i++)
        total[i] = text_score[i];
    for (size_t h = 0; h < nhints; h++) {
        if (hints[h].value == NULL || hints[h].kind == PL_HINT_ONLY)
            continue;
        const char *hv = NULL;
        if (hints[h].kind == PL_HINT_ACCEPT_LANGUAGE) {
            /* The first listed tag of this language that names a variety. */
            char tag[64];
            for (const char *p = hints[h].value; *p && hv == NULL;) {
                size_t n = strcspn(p, ",;");
                while (n > 0 && p[0] == ' ')
                    p++, n--;
                if (n < sizeof tag) {
                    memcpy(tag, p, n);
                    tag[n] = '\0';
                    hv = hint_variety(f, lang, hints[h].kind, tag);
                }
                p += n;
                p += strcspn(p, ",");
                if (*p == ',')
                    p++;
            }
        } else {
            hv = hint_variety(f, lang, hints[h].kind, hints[h].value);
        }
        int idx = hv ? variety_index((pl__vfile *)f, hv, 0) : -1;
        if (idx >= 0)
            total[idx] += hint_bonus(hints[h].kind);
    }
    int best = -1, second = -1;
    if (f->override_var >= 0 && text_score[f->override_var] >= f->override_min) {
        best = f->override_var;
    } else {
        for (int i = 0; i < f->nvar; i++) {
            if (best < 0 || total[i] > total[best]) {
                second = best;
                best = i;
            } else if (second < 0 || total[i] > total[second]) {
                second = i;
            }
        }
    }
    double runner = second >= 0 ? total[second] : 0.0;
    if (best < 0 || total[best] <= 0.0 || total[best] == runner)
        return;
    pl__copy_str(out->variety, sizeof out->variety, f->names[best]);
    out->variety_confidence = 1.0 - exp(-(total[best] - runner));
    out->variety_from_hint = text_score[best] <= 0.0;
}
