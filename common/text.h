/* SPDX-License-Identifier: BSD-3-Clause
 *
 * text.h: small text helpers that the data plane, the control plane and the tests share
 * (key files, REST bodies, test vectors). Header-only and dependency-free, like compiler.h,
 * so the protocol libraries can use it without linking anything.
 */
#ifndef SLUICE_TEXT_H
#define SLUICE_TEXT_H

/* Value of one hexadecimal digit (either case), or -1. */
static inline int sluice_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif /* SLUICE_TEXT_H */
