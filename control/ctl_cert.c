/* SPDX-License-Identifier: BSD-3-Clause */
/* ctl_cert.c - a self-signed certificate for a lab (see ctl_cert.h). */
#include "ctl_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int add_ext(X509 *crt, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, crt, crt, NULL, NULL, 0);
	if (!(ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)))
		return -1;
	int ok = X509_add_ext(crt, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

/* "IP:a,IP:b,DNS:c" from the two lists. */
static int san_of(const char *ips, const char *dns, char *out, size_t cap)
{
	size_t o = 0;
	const char *lists[2] = {ips, dns}, *kind[2] = {"IP:", "DNS:"};

	out[0] = '\0';
	for (int k = 0; k < 2; k++) {
		const char *p = lists[k];
		while (p && *p) {
			size_t n = strcspn(p, ",");
			int w = snprintf(out + o, cap - o, "%s%s%.*s", o ? "," : "", kind[k],
					 (int)n, p);
			if (w < 0 || (size_t)w >= cap - o)
				return -1;
			o += (size_t)w;
			p += n + (p[n] == ',');
		}
	}
	return o ? 0 : -1;
}

int ctl_cert_make(const char *cert_path, const char *key_path, const char *ips, const char *dns,
		  int days, bool rsa, char *err, size_t errlen)
{
	char san[1024], cn[256];
	EVP_PKEY *key = NULL;
	X509 *crt = NULL;
	FILE *f = NULL;
	unsigned char serial[16];
	int rc = -EINVAL, fd;

	if (san_of(ips, dns, san, sizeof(san)) < 0) {
		snprintf(err, errlen, "make-cert: give --ip and/or --dns (comma-separated)");
		return -EINVAL;
	}
	snprintf(cn, sizeof(cn), "%.*s", (int)strcspn(ips && *ips ? ips : dns, ","),
		 ips && *ips ? ips : dns);
	if (!(key = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256")) || !(crt = X509_new()) ||
	    RAND_bytes(serial, sizeof(serial)) != 1)
		goto ssl_fail;
	serial[0] &= 0x7f; /* a positive serial number (RFC 5280 4.1.2.2) */
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt))) {
		BN_free(bn);
		goto ssl_fail;
	}
	BN_free(bn);
	X509_NAME *name = X509_get_subject_name(crt);
	if (!X509_set_version(crt, 2) || !X509_gmtime_adj(X509_getm_notBefore(crt), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(crt), (long)days * 86400) ||
	    !X509_set_pubkey(crt, key) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"stormboot lab", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
					0) ||
	    !X509_set_issuer_name(crt, name) ||
	    add_ext(crt, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    /* RSA: keyEncipherment too, for the TLS_RSA_* key exchange that firmware without
	     * (EC)DHE uses (TLS 1.2, RFC 5246 7.4.2; GnuTLS enforces the key usage) */
	    add_ext(crt, NID_key_usage,
		    rsa ? "critical,digitalSignature,keyEncipherment,keyCertSign"
			: "critical,digitalSignature,keyCertSign") < 0 ||
	    add_ext(crt, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(crt, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(crt, NID_subject_alt_name, san) < 0 || !X509_sign(crt, key, EVP_sha256()))
		goto ssl_fail;
	fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		rc = -errno;
		snprintf(err, errlen, "make-cert: %s: %s", key_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (!PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0) {
		f = NULL;
		rc = -EIO;
		snprintf(err, errlen, "make-cert: writing %s failed", key_path);
		goto out;
	}
	if (!(f = fopen(cert_path, "w"))) {
		rc = -errno;
		snprintf(err, errlen, "make-cert: %s: %s", cert_path, strerror(errno));
		goto out;
	}
	if (!PEM_write_X509(f, crt) || fclose(f) != 0) {
		f = NULL;
		rc = -EIO;
		snprintf(err, errlen, "make-cert: writing %s failed", cert_path);
		goto out;
	}
	f = NULL;
	rc = 0;
	goto out;
ssl_fail:
	snprintf(err, errlen, "make-cert: OpenSSL: %s", ERR_error_string(ERR_get_error(), NULL));
out:
	if (f)
		fclose(f);
	X509_free(crt);
	EVP_PKEY_free(key);
	return rc;
}
