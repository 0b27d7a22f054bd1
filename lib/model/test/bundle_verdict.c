/*
 * bundle_verdict.c — reads each bundle file named on the command line with
 * the C core (td_compile_bundle, default limits) and prints one line per
 * file: "accept <path>" or "reject <path>: <status>: <detail>".
 *
 * With --expect, a file under a directory named "accept" must compile and
 * one under "reject" must not; the exit status is 1 if any file disagrees.
 * tests/python/test_bundle_grammar.py compares these verdicts with the
 * Python reader's on the shared corpus tests/fixtures/bundles/grammar/.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "td_model.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long  n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
	{
		buf = malloc((size_t) n + 1);
		if (buf != NULL && fread(buf, 1, (size_t) n, f) != (size_t) n)
		{
			free(buf);
			buf = NULL;
		}
		*len = (size_t) n;
	}
	fclose(f);
	return buf;
}

/* 1 when the file's directory is "accept", 0 for "reject", -1 otherwise. */
static int
expected(const char *path)
{
	if (strstr(path, "/accept/") != NULL || strncmp(path, "accept/", 7) == 0)
		return 1;
	if (strstr(path, "/reject/") != NULL || strncmp(path, "reject/", 7) == 0)
		return 0;
	return -1;
}

/* Verdict on one file; returns 1 when it is unreadable or, with expect, wrong. */
static int
verdict(const char *path, bool expect)
{
	td_image *img = NULL;
	size_t	  size = 0;
	size_t	  len = 0;
	td_error  err;
	td_status st;
	char	 *text = slurp(path, &len);
	int		  want = expected(path);
	int		  bad = 0;

	if (text == NULL)
	{
		printf("error %s: cannot read\n", path);
		return 1;
	}
	st = td_compile_bundle(text, len, NULL, &img, &size, &err);
	if (st == TD_OK)
		printf("accept %s\n", path);
	else
		printf("reject %s: %s: %s\n", path, td_status_name(st), err.detail);
	if (expect && want >= 0 && want != (st == TD_OK))
	{
		printf("MISMATCH: %s should be %s\n", path, want ? "accepted" : "rejected");
		bad = 1;
	}
	free(img);
	free(text);
	return bad;
}

static int
json_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

static int
verdict_dir(const char *dir, bool expect)
{
	struct dirent **list;
	int				n = scandir(dir, &list, json_file, alphasort);
	int				bad = 0;
	int				i;
	char			path[4096];

	if (n < 0)
	{
		printf("error %s: cannot list\n", dir);
		return 1;
	}
	for (i = 0; i < n; i++)
	{
		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		bad |= verdict(path, expect);
		free(list[i]);
	}
	free(list);
	return bad;
}

int
main(int argc, char **argv)
{
	bool		expect = false;
	int			bad = 0;
	int			i;
	struct stat sb;

	for (i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--expect") == 0)
			expect = true;
		else if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			bad |= verdict_dir(argv[i], expect);
		else
			bad |= verdict(argv[i], expect);
	}
	return bad;
}
