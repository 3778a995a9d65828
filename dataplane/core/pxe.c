/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "pxe.h"

int pxe_arch_from_type(uint16_t type)
{
	/* IANA "Processor Architecture Types" (RFC 4578 2.1 and later). */
	switch (type) {
	case 0:
		return SBCFG_ARCH_BIOS;
	case 6:
		return SBCFG_ARCH_UEFI_IA32;
	case 7: /* x64 UEFI */
	case 9: /* RFC 4578 says EBC, but x64 firmware sends 9 too (IANA errata) */
		return SBCFG_ARCH_UEFI_X64;
	case 11:
		return SBCFG_ARCH_UEFI_ARM64;
	case 16:
		return SBCFG_ARCH_HTTP_X64;
	case 19:
		return SBCFG_ARCH_HTTP_ARM64;
	default:
		return -ENOENT;
	}
}

static bool has_prefix(const struct dhcp_optv *v, const char *prefix)
{
	size_t n = strlen(prefix);

	return v->data && v->len >= n && memcmp(v->data, prefix, n) == 0;
}

/* "PXEClient:Arch:00007:UNDI:003016": the five digits after "Arch:". */
static int arch_from_vendor_class(const struct dhcp_optv *vc)
{
	static const char key[] = "Arch:";
	const uint8_t *p = vc->data;
	size_t len = vc->len;

	for (size_t i = 0; i + sizeof(key) - 1 + 5 <= len; i++) {
		if (memcmp(p + i, key, sizeof(key) - 1) != 0)
			continue;
		uint32_t v = 0;
		for (size_t k = 0; k < 5; k++) {
			uint8_t c = p[i + sizeof(key) - 1 + k];
			if (c < '0' || c > '9')
				return -1;
			v = v * 10 + (c - '0');
		}
		return v <= 0xffff ? (int)v : -1;
	}
	return -1;
}

bool pxe_user_class_is_ipxe(const struct dhcp_optv *uc)
{
	static const char ipxe[] = "iPXE";
	const size_t n = sizeof(ipxe) - 1;

	if (!uc->data)
		return false;
	/* iPXE sends the bare string, not RFC 3004 length-prefixed instances. */
	if (uc->len == n && memcmp(uc->data, ipxe, n) == 0)
		return true;
	/* RFC 3004 2: one or more {len, data} instances filling the option. */
	const uint8_t *p = uc->data, *end = uc->data + uc->len;
	while (p < end) {
		uint8_t l = p[0];
		if (l == 0 || l > end - p - 1)
			return false;
		if (l == n && memcmp(p + 1, ipxe, n) == 0)
			return true;
		p += 1 + l;
	}
	return false;
}

void pxe_classify(const struct dhcp_msg *m, struct pxe_client *out)
{
	int type = -1;

	memset(out, 0, sizeof(*out));
	out->pxe = has_prefix(&m->vendor_class, "PXEClient");
	out->http = has_prefix(&m->vendor_class, "HTTPClient");
	out->ipxe = pxe_user_class_is_ipxe(&m->user_class) || dhcp_has_opt(m, DHCP_OPT_IPXE_ENCAP);
	/* RFC 4578 2.1: the first type is the one the client prefers. */
	if (m->client_arch.data)
		type = (m->client_arch.data[0] << 8) | m->client_arch.data[1];
	else if (out->pxe || out->http)
		type = arch_from_vendor_class(&m->vendor_class);
	if (type < 0) {
		out->arch_type = 0xffff;
		out->arch = SBCFG_ARCH_BIOS;
		return;
	}
	out->arch_type = (uint16_t)type;
	out->arch = pxe_arch_from_type((uint16_t)type);
}

/* Case-insensitive: does s[0..len) contain the lowercase needle? */
static bool name_contains(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t k = 0; k + n <= len; k++) {
		size_t i = 0;
		while (i < n && (s[k + i] | 0x20) == needle[i])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* Case-insensitive: is s[0..len) the lowercase word? */
static bool name_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && name_contains(s, len, word);
}

/*
 * iPXE's bootable image formats (its Makefile targets): .kpxe, .kkpxe, .kkkpxe are iPXE's own
 * (UNDI-keeping PXE images); .pxe, .efi and .lkrn are shared with other loaders (pxelinux,
 * grub, shim, a kernel), so they count only when the name before the extension names an iPXE
 * build: ipxe*, *undionly*, *snponly*, snp. Everything else (no extension, .ipxe, .cfg, a
 * CGI URL) is what an iPXE client may be given: a script, a menu, another loader.
 */
bool pxe_is_ipxe_binary(const char *name)
{
	/* A URL's query or fragment ("boot.ipxe?mac=${mac}", RFC 3986 3.4) is not the name. */
	size_t end = strcspn(name, "?#"), b = end, dot;

	while (b > 0 && name[b - 1] != '/')
		b--;
	const char *base = name + b;
	size_t n = end - b;

	for (dot = n; dot > 0 && base[dot - 1] != '.'; dot--)
		;
	if (dot < 2 || dot == n)
		return false; /* no stem or no extension */
	const char *ext = base + dot;
	size_t elen = n - dot, slen = dot - 1;

	if (name_is(ext, elen, "kpxe") || name_is(ext, elen, "kkpxe") ||
	    name_is(ext, elen, "kkkpxe"))
		return true;
	if (!name_is(ext, elen, "pxe") && !name_is(ext, elen, "efi") && !name_is(ext, elen, "lkrn"))
		return false;
	return name_contains(base, slen, "ipxe") || name_contains(base, slen, "undionly") ||
	       name_contains(base, slen, "snponly") || name_is(base, slen, "snp");
}

const char *pxe_choose_bootfile(const struct sbcfg_dhcp *cfg, const struct sbcfg_reservation *res,
				const struct pxe_client *c)
{
	const char *cand[4];
	size_t n = 0;

	if (res && res->bootfile[0])
		cand[n++] = res->bootfile;
	if (c->ipxe) {
		if (res && res->ipxe_script[0])
			cand[n++] = res->ipxe_script;
		if (cfg->boot.ipxe_script[0])
			cand[n++] = cfg->boot.ipxe_script;
	}
	if (c->arch >= 0 && c->arch < SBCFG_ARCH__COUNT && cfg->boot.by_arch[c->arch][0])
		cand[n++] = cfg->boot.by_arch[c->arch];
	for (size_t i = 0; i < n; i++) {
		if (c->ipxe && pxe_is_ipxe_binary(cand[i]))
			continue; /* never hand iPXE its own binary again */
		return cand[i];
	}
	return NULL;
}

int pxe_build_vendor_opts(const struct dhcp_msg *req, uint8_t *out, size_t cap)
{
	size_t n = 0;
	const uint8_t *item = NULL;

	/* PXE 2.1 2.2.5: a boot server reply echoes the requested boot item. */
	if (req->vendor_opts.data) {
		const uint8_t *p = req->vendor_opts.data, *end = p + req->vendor_opts.len;
		while (p < end && p[0] != PXE_END) {
			if (p[0] == 0) {
				p++;
				continue;
			}
			if (end - p < 2 || p[1] > end - p - 2)
				break;
			if (p[0] == PXE_BOOT_ITEM && p[1] == 4)
				item = p;
			p += 2 + p[1];
		}
	}
	if (cap < 3 + (item ? 6u : 0u) + 1)
		return -ENOSPC;
	out[n++] = PXE_DISCOVERY_CONTROL;
	out[n++] = 1;
	out[n++] = PXE_DISCOVERY_USE_BOOTFILE;
	if (item) {
		memcpy(out + n, item, 6);
		n += 6;
	}
	out[n++] = PXE_END;
	return (int)n;
}
