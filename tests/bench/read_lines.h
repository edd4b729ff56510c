/*
 * The benchmark drivers' input: one message per line, read whole before
 * anything is timed. Header-only, shared by parley_langid.c and
 * langid_ab.c; not part of the library.
 */
#ifndef PARLEY_BENCH_READ_LINES_H
#define PARLEY_BENCH_READ_LINES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads every line of the file at path without its line end into *lines
 * and *lens; returns their number and adds their bytes to *bytes. Exits
 * when the file cannot be read or memory runs out. */
static size_t read_lines(const char *path, char ***lines, size_t **lens, size_t *bytes)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    size_t n = 0, cap = 1024;
    char **l = malloc(cap * sizeof *l);
    size_t *ln = malloc(cap * sizeof *ln);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while (l != NULL && ln != NULL && (len = getline(&line, &lcap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (n == cap) {
            cap *= 2;
            l = realloc(l, cap * sizeof *l);
            ln = realloc(ln, cap * sizeof *ln);
            if (l == NULL || ln == NULL)
                break;
        }
        l[n] = strndup(line, (size_t)len);
        ln[n++] = (size_t)len;
        *bytes += (size_t)len;
    }
    free(line);
    fclose(f);
    if (l == NULL || ln == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    *lines = l;
    *lens = ln;
    return n;
}

#endif
