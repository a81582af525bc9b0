/*
 * Unit tests for src/netaddr.c.
 */
#include <netinet/in.h>
#include <string.h>

#include "netaddr.h"
#include "unit.h"

/* Parse then format; "" if parsing failed. */
static void round_trip(const char *in, char *out)
{
	struct netaddr a;

	out[0] = '\0';
	if (netaddr_parse(in, 28444, &a) == 0)
		netaddr_format(&a, out, NETADDR_STRLEN);
}

UNIT_TEST(netaddr_parse_and_format)
{
	char out[NETADDR_STRLEN];

	round_trip("127.0.0.1:18444", out);
	CHECK_EQ_STR(out, "127.0.0.1:18444");
	round_trip("127.0.0.1", out);
	CHECK_EQ_STR(out, "127.0.0.1:28444");
	round_trip("[::1]:8333", out);
	CHECK_EQ_STR(out, "[::1]:8333");
	round_trip("[2001:db8::ff00:42:8329]", out);
	CHECK_EQ_STR(out, "[2001:db8::ff00:42:8329]:28444");
}

UNIT_TEST(netaddr_parse_rejects_bad_input)
{
	static const char *const bad[] = {
		"", ":1", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:80x",
		"1.2.3:80", "::1:80", "[::1", "[::1]x", "[::1]:", "[]:80",
		"example.com:80", "1.2.3.4:-1", "256.1.1.1",
	};
	struct netaddr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int rc = netaddr_parse(bad[i], 28444, &a);

		if (rc != -1)
			fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
		CHECK_EQ_INT(rc, -1);
	}
}

static enum net_network network_of(const char *s)
{
	struct netaddr a;

	if (netaddr_parse(s, 1, &a) != 0)
		return (enum net_network)-1;
	return netaddr_network(&a);
}

UNIT_TEST(netaddr_network_numbers)
{
	CHECK_EQ_INT(network_of("127.0.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("10.1.2.3"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("172.31.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("192.168.1.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("100.64.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("8.8.8.8"), NET_IPV4);
	CHECK_EQ_INT(network_of("172.32.0.1"), NET_IPV4);
	CHECK_EQ_INT(network_of("[::1]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[fe80::1]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[fd00::1]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[2a01:4f8::1]"), NET_IPV6);
	CHECK_EQ_STR(netaddr_network_name(NET_UNROUTABLE), "not_publicly_routable");
	CHECK_EQ_STR(netaddr_network_name(NET_IPV6), "ipv6");
}

UNIT_TEST(netaddr_groups)
{
	struct netaddr a, b, c, d;

	netaddr_parse("127.1.0.1", 1, &a);
	netaddr_parse("127.1.200.9", 2, &b);
	netaddr_parse("127.2.0.1", 1, &c);
	netaddr_parse("[2a01:4f8:1::1]", 1, &d);
	CHECK(netaddr_group(&a) == netaddr_group(&b)); /* same /16 */
	CHECK(netaddr_group(&a) != netaddr_group(&c));
	CHECK(netaddr_group(&a) != netaddr_group(&d));
}

UNIT_TEST(netaddr_sockaddr_round_trip)
{
	struct sockaddr_storage ss;
	struct netaddr a, b;

	netaddr_parse("[2a01:4f8::1]:9", 1, &a);
	netaddr_to_sockaddr(&a, &ss);
	CHECK_EQ_INT(ss.ss_family, AF_INET6);
	CHECK_EQ_INT(netaddr_from_sockaddr((struct sockaddr *)&ss, &b), 0);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	netaddr_parse("1.2.3.4:80", 1, &a);
	netaddr_to_sockaddr(&a, &ss);
	CHECK_EQ_INT(ss.ss_family, AF_INET);
	CHECK_EQ_INT(netaddr_from_sockaddr((struct sockaddr *)&ss, &b), 0);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

UNIT_TEST(netaddr_more_ranges)
{
	CHECK_EQ_INT(network_of("0.0.0.0"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("169.254.10.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("172.16.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("172.15.255.255"), NET_IPV4);
	CHECK_EQ_INT(network_of("100.63.255.255"), NET_IPV4);
	CHECK_EQ_INT(network_of("100.128.0.1"), NET_IPV4);
	CHECK_EQ_INT(network_of("198.18.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("198.20.0.1"), NET_IPV4);
	CHECK_EQ_INT(network_of("240.0.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("255.255.255.255"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("127.2.0.1"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[::]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[2001:db8::1]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[fc00::1]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[febf::1]"), NET_UNROUTABLE);
	CHECK_EQ_INT(network_of("[fec0::1]"), NET_IPV6);
	CHECK_EQ_INT(network_of("[::ffff:8.8.4.4]"), NET_IPV4);
	CHECK_EQ_INT(network_of("[::ffff:192.168.0.1]"), NET_UNROUTABLE);
	CHECK_EQ_STR(netaddr_network_name(NET_IPV4), "ipv4");
	CHECK_EQ_STR(netaddr_network_name(NET_ONION), "onion");
	CHECK_EQ_STR(netaddr_network_name(NET_I2P), "i2p");
	CHECK_EQ_STR(netaddr_network_name(NET_CJDNS), "cjdns");
	CHECK_EQ_STR(netaddr_network_name(NET_INTERNAL), "internal");
	CHECK_EQ_STR(netaddr_network_name((enum net_network)7), "unknown");
}

UNIT_TEST(netaddr_ipv4_mapped_formats_as_ipv4)
{
	char out[NETADDR_STRLEN];

	round_trip("[::ffff:1.2.3.4]:5", out);
	CHECK_EQ_STR(out, "1.2.3.4:5");
	round_trip("[0:0:0:0:0:0:0:1]:65535", out);
	CHECK_EQ_STR(out, "[::1]:65535");
	round_trip("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", out);
	CHECK_EQ_STR(out, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	CHECK(strlen(out) < NETADDR_STRLEN);
}

UNIT_TEST(netaddr_ip_only_and_same_ip)
{
	struct netaddr a, b, c;
	char out[NETADDR_STRLEN];

	netaddr_parse("127.2.0.1:1000", 1, &a);
	netaddr_parse("127.2.0.1:2000", 1, &b);
	netaddr_parse("[::1]:1000", 1, &c);
	netaddr_format_ip(&a, out, sizeof(out));
	CHECK_EQ_STR(out, "127.2.0.1");
	netaddr_format_ip(&c, out, sizeof(out));
	CHECK_EQ_STR(out, "::1");
	CHECK(netaddr_same_ip(&a, &b));
	CHECK(!netaddr_same_ip(&a, &c));
	CHECK(netaddr_is_ipv4(&a));
	CHECK(!netaddr_is_ipv4(&c));
}

UNIT_TEST(netaddr_ipv6_groups_by_32_bits)
{
	struct netaddr a, b, c, v4;

	netaddr_parse("[2a01:4f8:1::1]", 1, &a);
	netaddr_parse("[2a01:4f8:ffff::2]", 1, &b);
	netaddr_parse("[2a01:4f9::1]", 1, &c);
	/* 42.1.x.x would be the same 32 bits as 2a01:: read as an integer. */
	netaddr_parse("42.1.4.248", 1, &v4);
	CHECK(netaddr_group(&a) == netaddr_group(&b));
	CHECK(netaddr_group(&a) != netaddr_group(&c));
	CHECK(netaddr_group(&a) != netaddr_group(&v4));
}

UNIT_TEST(netaddr_from_other_families_fails)
{
	struct sockaddr_storage ss;
	struct netaddr a;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	CHECK_EQ_INT(netaddr_from_sockaddr((struct sockaddr *)&ss, &a), -1);
}

UNIT_TEST(netaddr_whitelist_entries)
{
	struct netaddr net, a;
	int bits;
	bool noban;

	/* Core's syntax: [PERMS@]IP[/BITS]; no PERMS means noban among others. */
	CHECK_EQ_INT(netaddr_parse_whitelist("192.0.2.2", &net, &bits, &noban), 0);
	CHECK(noban);
	CHECK_EQ_INT(bits, 128);
	CHECK_EQ_INT(netaddr_parse("192.0.2.2:1", 0, &a), 0);
	CHECK(netaddr_in_subnet(&a, &net, bits));
	CHECK_EQ_INT(netaddr_parse("192.0.2.3:1", 0, &a), 0);
	CHECK(!netaddr_in_subnet(&a, &net, bits));

	CHECK_EQ_INT(netaddr_parse_whitelist("noban,relay@10.1.0.0/16", &net, &bits, &noban), 0);
	CHECK(noban);
	CHECK_EQ_INT(bits, 96 + 16);
	CHECK_EQ_INT(netaddr_parse("10.1.255.7:1", 0, &a), 0);
	CHECK(netaddr_in_subnet(&a, &net, bits));
	CHECK_EQ_INT(netaddr_parse("10.2.0.1:1", 0, &a), 0);
	CHECK(!netaddr_in_subnet(&a, &net, bits));

	CHECK_EQ_INT(netaddr_parse_whitelist("relay,mempool@10.0.0.1", &net, &bits, &noban), 0);
	CHECK(!noban);
	CHECK_EQ_INT(netaddr_parse_whitelist("all@::1/128", &net, &bits, &noban), 0);
	CHECK(noban);
	CHECK_EQ_INT(bits, 128);
	CHECK_EQ_INT(netaddr_parse_whitelist("fd00::/8", &net, &bits, &noban), 0);
	CHECK_EQ_INT(netaddr_parse("[fdab::1]:1", 0, &a), 0);
	CHECK(netaddr_in_subnet(&a, &net, bits));

	CHECK_EQ_INT(netaddr_parse_whitelist("", &net, &bits, &noban), -1);
	CHECK_EQ_INT(netaddr_parse_whitelist("bogus@10.0.0.1", &net, &bits, &noban), -1);
	CHECK_EQ_INT(netaddr_parse_whitelist("10.0.0.1/33", &net, &bits, &noban), -1);
	CHECK_EQ_INT(netaddr_parse_whitelist("10.0.0.1/", &net, &bits, &noban), -1);
	CHECK_EQ_INT(netaddr_parse_whitelist("10.0.0.1:5", &net, &bits, &noban), -1);
	CHECK_EQ_INT(netaddr_parse_whitelist("host.example", &net, &bits, &noban), -1);
}
