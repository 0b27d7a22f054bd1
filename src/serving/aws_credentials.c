/*
 * aws_credentials.c — reading keys from an AWS shared credentials file.
 *
 * taxi_duration.aws_shared_credentials_file names a file in the format the
 * AWS CLI and SDKs use (~/.aws/credentials):
 *
 *     [default]
 *     aws_access_key_id = AKIA...
 *     aws_secret_access_key = ...
 *     aws_session_token = ...      (optional)
 *
 * It keeps secrets out of setting values, which PostgreSQL writes to the
 * server log when a reload changes them.  Nothing read from the file is
 * ever put in an error message, and the file's path (a superuser-only
 * setting) goes to the server log only (errdetail_log): what the client
 * sees names the profile and the line number at most.
 */
#include "postgres.h"

#include "storage/fd.h"

#include "serving/serving.h"

/* Trim ASCII white space at both ends, in place. */
static char *
td_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
					   end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* Copy a value, refusing one that does not fit (without showing it). */
static void
td_copy_value(char *dest, Size size, const char *value, const char *path,
			  int line)
{
	if (strlen(value) >= size)
		ereport(ERROR,
				errcode(ERRCODE_CONFIG_FILE_ERROR),
				errmsg("value too long in AWS credentials file"),
				errdetail("Line %d holds a value longer than %zu bytes.", line, size - 1),
				errdetail_log("Line %d of \"%s\" holds a value longer than %zu bytes.",
							  line, path, size - 1));
	strlcpy(dest, value, size);
}

/*
 * Read the keys of `profile` ("default" when NULL or empty) from `path`.
 * ERROR if the file cannot be read or the profile lacks a key pair.
 */
void
TdReadAwsCredentials(const char *path, const char *profile,
					 TdAwsCredentials *credentials)
{
	FILE *file;
	char  buf[8192];
	bool  in_profile = false;
	int	  line = 0;

	memset(credentials, 0, sizeof(*credentials));
	if (profile == NULL || profile[0] == '\0')
		profile = "default";

	file = AllocateFile(path, "r");
	if (file == NULL)
		ereport(ERROR,
				errcode_for_file_access(),
				errmsg("could not open AWS credentials file: %m"),
				errdetail_log("The file is \"%s\".", path),
				errhint("Check taxi_duration.aws_shared_credentials_file."));

	while (fgets(buf, sizeof(buf), file) != NULL)
	{
		char *s = td_trim(buf);
		char *eq;

		line++;
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
		{
			char *close = strchr(s, ']');

			if (close == NULL)
			{
				FreeFile(file);
				ereport(ERROR,
						errcode(ERRCODE_CONFIG_FILE_ERROR),
						errmsg("syntax error in AWS credentials file"),
						errdetail("Line %d opens a section without closing it.", line),
						errdetail_log("Line %d of \"%s\" opens a section without closing it.",
									  line, path));
			}
			*close = '\0';
			s = td_trim(s + 1);
			if (strncmp(s, "profile ", 8) == 0)
				s = td_trim(s + 8);
			in_profile = strcmp(s, profile) == 0;
			continue;
		}
		if (!in_profile)
			continue;
		eq = strchr(s, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (strcmp(td_trim(s), "aws_access_key_id") == 0)
			td_copy_value(credentials->access_key_id, sizeof(credentials->access_key_id),
						  td_trim(eq + 1), path, line);
		else if (strcmp(td_trim(s), "aws_secret_access_key") == 0)
			td_copy_value(credentials->secret_access_key, sizeof(credentials->secret_access_key),
						  td_trim(eq + 1), path, line);
		else if (strcmp(td_trim(s), "aws_session_token") == 0)
			td_copy_value(credentials->session_token, sizeof(credentials->session_token),
						  td_trim(eq + 1), path, line);
	}
	FreeFile(file);
	explicit_bzero(buf, sizeof(buf));

	if (credentials->access_key_id[0] == '\0' || credentials->secret_access_key[0] == '\0')
	{
		TdForgetAwsCredentials(credentials);
		ereport(ERROR,
				errcode(ERRCODE_CONFIG_FILE_ERROR),
				errmsg("AWS credentials file has no key pair for profile \"%s\"",
					   profile),
				errdetail_log("The file is \"%s\".", path),
				errhint("Give the profile aws_access_key_id and aws_secret_access_key lines."));
	}
}

/* Wipe credentials from memory once they are no longer needed. */
void
TdForgetAwsCredentials(TdAwsCredentials *credentials)
{
	explicit_bzero(credentials, sizeof(*credentials));
}
