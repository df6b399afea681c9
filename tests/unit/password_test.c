/*
 * password_test.c: unit tests for common/password.c, the htpasswd hash
 * checks of auth_basic.
 *
 * The hashes below were made by the tools an operator uses: "openssl
 * passwd -apr1 / -5 / -6" and "htpasswd -nbB / -nbs" (apache2-utils).
 * apr1 is computed by forkloop itself, so it has the most cases: salts
 * of 2 and 8 characters, a password longer than 16 bytes (the
 * "alternate" sum is added in pieces), the empty password.  Each kind
 * also refuses a password that differs by one byte, and the form checks
 * refuse plain text, DES crypt and hashes cut short.
 */
#include "config.h"

#include <string.h>

#include "common/password.h"
#include "tests/unit/tap.h"

struct vector {
	const char *password;
	const char *hash;
	enum password_kind kind;
};

static const struct vector vectors[] = {
	{ "secret", "$apr1$ihlargy1$Kd3xyKf6mBl9gzW3HWmau/", PASSWORD_APR1 },
	{ "longerpassword12345678", "$apr1$ab$ngw.CbCd0iFg7FKpgYg3J1",
	    PASSWORD_APR1 },
	{ "x", "$apr1$12345678$zbBEMgfXu4mAHPrplrtNt.", PASSWORD_APR1 },
	{ "", "$apr1$.XiacScc$RiC33DZ9grkV.45/Sa1tI0", PASSWORD_APR1 },
	{ "secret", "$6$hOi7gqsVuZ1nIgb0$Fm16xEz/glY7LbujoyJ1Tt.uDMT48/1iJtiJO"
	    "udayF2gohEZfJJcJoW0FKzyKaffASAtAZ2ey1RmMatFE3kcz0",
	    PASSWORD_SHA512_CRYPT },
	{ "secret", "$5$9V0fFxQXzmyxX.1E$KNDRe9ZHA6aJe8plJbyE7Jvh6fCaxcd1Vr0S2n"
	    "Mmo93", PASSWORD_SHA256_CRYPT },
	{ "secret", "$2y$04$ZmmPzn/WIGGVZWPUQZvql.AyQNfuohmlBbTVsbutpLvrUsV74jb"
	    "sC", PASSWORD_BCRYPT },
	{ "secret", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", PASSWORD_SHA1 },
};

static const char *const refused[] = {
	"secret",			/* plain text */
	"abJnggxhB/yWI",		/* DES crypt: 13 characters */
	"$1$qxkvp.pZ$h6ebxU1sxN9jFnYxnYCRW/",	/* MD5 crypt: not offered */
	"$apr1$ihlargy1$Kd3xyKf6mBl9gzW3HWmau",	/* one digit short */
	"$apr1$123456789$zbBEMgfXu4mAHPrplrtNt.",	/* salt of 9 */
	"$2y$04$ZmmPzn/WIGGVZWPUQZvql.AyQNfuohmlBbTVsbutpLvrUsV74jbs",
	"$2y$03$ZmmPzn/WIGGVZWPUQZvql.AyQNfuohmlBbTVsbutpLvrUsV74jbsC",
	"$2x$04$ZmmPzn/WIGGVZWPUQZvql.AyQNfuohmlBbTVsbutpLvrUsV74jbsC",
	"$5$9V0fFxQXzmyxX.1E$KNDRe9ZHA6aJe8plJbyE7Jvh6fCaxcd1Vr0S2nMmo9",
	"$6$rounds=0$salt$Fm16xEz/glY7LbujoyJ1Tt.uDMT48/1iJtiJOudayF2gohEZf"
	    "JJcJoW0FKzyKaffASAtAZ2ey1RmMatFE3kcz0",
	"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ",	/* no padding */
	"{SHA}5en6G6MezRroT3XKqkdPOmY/Bf!=",
	"",
};

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		char wrong[64];

		is_int(password_kind(v->hash), v->kind, "%s: its kind is %s",
		    v->hash, password_kind_name(v->kind));
		is_int(password_verify(v->password, strlen(v->password),
		    v->hash, v->kind), 1, "%s: \"%s\" verifies", v->hash,
		    v->password);
		snprintf(wrong, sizeof(wrong), "%sx", v->password);
		is_int(password_verify(wrong, strlen(wrong), v->hash,
		    v->kind), 0, "%s: \"%s\" does not", v->hash, wrong);
		if (v->password[0] != '\0') {
			snprintf(wrong, sizeof(wrong), "%s", v->password);
			wrong[0] ^= 0x20;
			is_int(password_verify(wrong, strlen(wrong), v->hash,
			    v->kind), 0, "%s: \"%s\" does not", v->hash,
			    wrong);
		}
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		is_int(password_kind(refused[i]), PASSWORD_UNKNOWN,
		    "\"%s\" is refused", refused[i]);
	is_int(password_verify("secret", 6, "secret", PASSWORD_UNKNOWN), 0,
	    "an unknown kind never verifies");
	return done_testing();
}
