/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_cert.h - a self-signed certificate for a lab's HTTPS boot server
 * (`stormbootctl make-cert`), made with OpenSSL's libcrypto: an ECDSA P-256 key and an X.509
 * v3 certificate for the given addresses and names (subjectAltName), usable as its own CA
 * (curl --cacert CERT; iPXE's trust, UEFI's enrolled CA). With rsa an RSA 2048 key instead:
 * the TLS of Debian's OVMF (edk2 2022.11, OpenSSL built without elliptic curves) cannot
 * verify an ECDSA certificate nor agree on an ECDHE key (docs/HTTP.md).
 */
#ifndef SB_CTL_CERT_H
#define SB_CTL_CERT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Write key_path (mode 0600) and cert_path for the comma-separated ips ("198.18.0.1") and
 * dns names, valid for days days. 0, or -errno / -EINVAL with the reason in err.
 */
int ctl_cert_make(const char *cert_path, const char *key_path, const char *ips, const char *dns,
		  int days, bool rsa, char *err, size_t errlen);

#endif
