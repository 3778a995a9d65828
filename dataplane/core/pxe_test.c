/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pxe_test.c - client architecture (RFC 4578), PXE / HTTP / iPXE detection,
 * boot file choice (no chainload loop) and option 43.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp.h"
#include "pxe.h"
#include "sb_drop.h"

/* Parse a DISCOVER carrying the given options (without END). */
static void mk(struct dhcp_msg *m, uint8_t *buf, const uint8_t *opts, size_t optlen)
{
	memset(buf, 0, DHCP_OPT_OFF);
	buf[0] = 1, buf[1] = 1, buf[2] = 6;
	buf[236] = 99, buf[237] = 130, buf[238] = 83, buf[239] = 99;
	size_t n = DHCP_OPT_OFF;
	buf[n++] = 53, buf[n++] = 1, buf[n++] = 1;
	if (optlen)
		memcpy(buf + n, opts, optlen);
	n += optlen;
	buf[n++] = 255;
	int rc = dhcp_parse(buf, n, m);
	if (rc)
		fail_msg("test message does not parse: %s", sb_drop_name(rc));
}

static void test_arch_table(void **state)
{
	static const struct {
		uint16_t type;
		int arch;
	} t[] = {
		{0, SBCFG_ARCH_BIOS},
		{6, SBCFG_ARCH_UEFI_IA32},
		{7, SBCFG_ARCH_UEFI_X64},
		{9, SBCFG_ARCH_UEFI_X64},
		{11, SBCFG_ARCH_UEFI_ARM64},
		{16, SBCFG_ARCH_HTTP_X64},
		{19, SBCFG_ARCH_HTTP_ARM64},
		{1, -ENOENT},
		{2, -ENOENT},
		{10, -ENOENT},
		{15, -ENOENT},
		{0xffff, -ENOENT},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (pxe_arch_from_type(t[i].type) != t[i].arch)
			fail_msg("type %u: %d, expected %d", t[i].type,
				 pxe_arch_from_type(t[i].type), t[i].arch);
}

#define O(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})
#define VC_PXE(a, b, c, d, e)                                                                      \
	60, 32, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', ':', 'A', 'r', 'c', 'h', ':', a, b,   \
		c, d, e, ':', 'U', 'N', 'D', 'I', ':', '0', '0', '3', '0', '1', '6'

struct classify_case {
	const char *name;
	const uint8_t *opts;
	size_t optlen;
	int arch;
	uint16_t arch_type;
	bool pxe, http, ipxe;
};

static const struct classify_case classify_cases[] = {
	{"nothing: BIOS", O(12, 1, 'x'), SBCFG_ARCH_BIOS, 0xffff, false, false, false},
	{"93 wins over vendor class", O(VC_PXE('0', '0', '0', '0', '0'), 93, 2, 0, 7),
	 SBCFG_ARCH_UEFI_X64, 7, true, false, false},
	{"first of two 93 types", O(93, 4, 0, 11, 0, 7), SBCFG_ARCH_UEFI_ARM64, 11, false, false,
	 false},
	{"arch from vendor class", O(VC_PXE('0', '0', '0', '0', '7')), SBCFG_ARCH_UEFI_X64, 7, true,
	 false, false},
	{"bad digits in vendor class", O(VC_PXE('0', '0', 'x', '0', '7')), SBCFG_ARCH_BIOS, 0xffff,
	 true, false, false},
	{"bare PXEClient", O(60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't'), SBCFG_ARCH_BIOS,
	 0xffff, true, false, false},
	{"PXEClien is not PXE", O(60, 8, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n'), SBCFG_ARCH_BIOS,
	 0xffff, false, false, false},
	{"HTTPClient", O(60, 10, 'H', 'T', 'T', 'P', 'C', 'l', 'i', 'e', 'n', 't', 93, 2, 0, 16),
	 SBCFG_ARCH_HTTP_X64, 16, false, true, false},
	{"unknown arch", O(93, 2, 0, 10), -ENOENT, 10, false, false, false},
	{"iPXE raw user class", O(77, 4, 'i', 'P', 'X', 'E'), SBCFG_ARCH_BIOS, 0xffff, false, false,
	 true},
	{"iPXE RFC 3004", O(77, 5, 4, 'i', 'P', 'X', 'E'), SBCFG_ARCH_BIOS, 0xffff, false, false,
	 true},
	{"iPXE RFC 3004 second", O(77, 8, 2, 'a', 'b', 4, 'i', 'P', 'X', 'E'), SBCFG_ARCH_BIOS,
	 0xffff, false, false, true},
	{"RFC 3004 overrun", O(77, 5, 9, 'i', 'P', 'X', 'E'), SBCFG_ARCH_BIOS, 0xffff, false, false,
	 false},
	{"ipxe lower case is not iPXE", O(77, 4, 'i', 'p', 'x', 'e'), SBCFG_ARCH_BIOS, 0xffff,
	 false, false, false},
	{"iPXEx", O(77, 5, 'i', 'P', 'X', 'E', 'x'), SBCFG_ARCH_BIOS, 0xffff, false, false, false},
	{"option 175", O(175, 3, 0xb1, 1, 1), SBCFG_ARCH_BIOS, 0xffff, false, false, true},
	{"option 175 empty", O(175, 0), SBCFG_ARCH_BIOS, 0xffff, false, false, true},
};

static void test_classify(void **state)
{
	uint8_t buf[600];
	struct dhcp_msg m;
	struct pxe_client c;

	for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
		const struct classify_case *k = &classify_cases[i];
		mk(&m, buf, k->opts, k->optlen);
		pxe_classify(&m, &c);
		if (c.arch != k->arch || c.arch_type != k->arch_type || c.pxe != k->pxe ||
		    c.http != k->http || c.ipxe != k->ipxe)
			fail_msg("%s: arch %d type %u pxe %d http %d ipxe %d", k->name, c.arch,
				 c.arch_type, c.pxe, c.http, c.ipxe);
	}
}

static void test_choose_bootfile(void **state)
{
	struct sbcfg_dhcp d;
	struct sbcfg_reservation r;
	struct pxe_client c = {.arch = SBCFG_ARCH_UEFI_X64};

	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	strcpy(d.boot.by_arch[SBCFG_ARCH_UEFI_X64], "efi/ipxe.efi");
	strcpy(d.boot.by_arch[SBCFG_ARCH_BIOS], "pxelinux.0");

	assert_string_equal(pxe_choose_bootfile(&d, NULL, &c), "efi/ipxe.efi");
	/* iPXE, no script: the per-arch file is iPXE itself -> nothing. */
	c.ipxe = true;
	assert_null(pxe_choose_bootfile(&d, NULL, &c));
	strcpy(d.boot.ipxe_script, "boot.ipxe");
	assert_string_equal(pxe_choose_bootfile(&d, NULL, &c), "boot.ipxe");
	strcpy(r.ipxe_script, "vm7.ipxe");
	assert_string_equal(pxe_choose_bootfile(&d, &r, &c), "vm7.ipxe");
	strcpy(r.bootfile, "kernel.efi");
	assert_string_equal(pxe_choose_bootfile(&d, &r, &c), "kernel.efi");
	/* Not iPXE: the reservation's file, then by arch; scripts never. */
	c.ipxe = false;
	assert_string_equal(pxe_choose_bootfile(&d, &r, &c), "kernel.efi");
	r.bootfile[0] = 0;
	assert_string_equal(pxe_choose_bootfile(&d, &r, &c), "efi/ipxe.efi");
	/* iPXE on BIOS chaining into pxelinux is fine. */
	c.arch = SBCFG_ARCH_BIOS;
	c.ipxe = true;
	d.boot.ipxe_script[0] = 0;
	r.ipxe_script[0] = 0;
	assert_string_equal(pxe_choose_bootfile(&d, &r, &c), "pxelinux.0");
	/* A script whose name merely contains "ipxe" is a script: the iPXE client gets it. */
	strcpy(d.boot.ipxe_script, "http://198.18.0.1/cgi-bin/ipxe?mac=${mac}");
	assert_string_equal(pxe_choose_bootfile(&d, NULL, &c), d.boot.ipxe_script);
	strcpy(d.boot.ipxe_script, "ipxe-menu.cfg");
	assert_string_equal(pxe_choose_bootfile(&d, NULL, &c), "ipxe-menu.cfg");
	d.boot.ipxe_script[0] = 0;
	/* Unknown arch or empty entry: nothing. */
	c.ipxe = false;
	c.arch = -ENOENT;
	assert_null(pxe_choose_bootfile(&d, NULL, &c));
	c.arch = SBCFG_ARCH_UEFI_ARM64;
	assert_null(pxe_choose_bootfile(&d, NULL, &c));
}

static void test_ipxe_binary_names(void **state)
{
	static const struct {
		const char *name;
		bool ipxe;
	} t[] = {
		{"ipxe.efi", true},
		{"undionly.kpxe", true},
		{"undionly.kkpxe", true},
		{"bin/ipxe.pxe", true},
		{"snponly.efi", true},
		{"x/IPXE.EFI", true},
		{"foo.kpxe", true},
		{"boot.ipxe", false},
		{"ipxe/boot.ipxe", false},
		{"pxelinux.0", false},
		{"grubx64.efi", false},
		{"", false},
		{"http://h/vmlinuz", false},
		/* URLs: the query is not part of the name (iPXE expands ${...} in it) */
		{"http://198.18.0.1:8080/ipxe/boot.ipxe?mac=${mac}&arch=${buildarch}", false},
		{"http://h/ipxe/boot.ipxe?x=${net0/mac}", false},
		{"http://h/s?f=ipxe.efi", false},
		{"http://h/ipxe.efi?x=boot.ipxe", true},
		{"http://h/undionly.kpxe#x.ipxe", true},
		/* More iPXE binaries: its image formats with an iPXE driver name. */
		{"snp.efi", true},
		{"efi/x64/snponly.efi", true},
		{"ipxe.lkrn", true},
		{"bin/ipxe.kkkpxe", true},
		{"ipxe-x86_64.efi", true},
		{"http://h/ipxe/undionly.kpxe", true},
		/* Names that merely contain "ipxe" are not iPXE binaries: scripts, menus, other
		 * loaders, a directory named ipxe. */
		{"ipxe-menu.cfg", false},
		{"boot-ipxe.txt", false},
		{"scripts/ipxe-boot", false},
		{"http://h/ipxe/boot.php", false},
		{"http://h/cgi-bin/ipxe?mac=${mac}", false},
		{"ipxe/grubx64.efi", false},
		{"noipxe.0", false},
		{"IPXE.SCRIPT", false},
		{"snpfoo.txt", false},
		{"ipxe.", false},
		{".efi", false},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (pxe_is_ipxe_binary(t[i].name) != t[i].ipxe)
			fail_msg("%s: expected %d", t[i].name, t[i].ipxe);
}

static void test_vendor_opts(void **state)
{
	uint8_t buf[600], out[32];
	struct dhcp_msg m;

	mk(&m, buf, O(12, 1, 'x'));
	int n = pxe_build_vendor_opts(&m, out, sizeof(out));
	assert_int_equal(n, 4);
	assert_memory_equal(out, ((const uint8_t[]){6, 1, 8, 255}), 4);
	assert_int_equal(pxe_build_vendor_opts(&m, out, 3), -ENOSPC);

	/* Boot server request: the boot item (71) is echoed. */
	mk(&m, buf, O(43, 9, 0, 71, 4, 0x80, 0x01, 0x00, 0x00, 255, 0));
	n = pxe_build_vendor_opts(&m, out, sizeof(out));
	assert_int_equal(n, 10);
	assert_memory_equal(out, ((const uint8_t[]){6, 1, 8, 71, 4, 0x80, 0x01, 0, 0, 255}), 10);
	assert_int_equal(pxe_build_vendor_opts(&m, out, 9), -ENOSPC);
	/* A malformed 43 from the client is ignored, not echoed. */
	mk(&m, buf, O(43, 4, 71, 4, 0x80, 0x01));
	assert_int_equal(pxe_build_vendor_opts(&m, out, sizeof(out)), 4);
	mk(&m, buf, O(43, 4, 71, 2, 0x80, 0x01));
	assert_int_equal(pxe_build_vendor_opts(&m, out, sizeof(out)), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arch_table),	cmocka_unit_test(test_classify),
		cmocka_unit_test(test_choose_bootfile), cmocka_unit_test(test_ipxe_binary_names),
		cmocka_unit_test(test_vendor_opts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
