/*
 * Unit tests for src/addrman.c: adding and refreshing, deduplication by
 * IP and port, unusable addresses, the capacity bound (the stalest entry
 * goes), selection with filters and the retry delay, and sampling.
 */
#include <stdbool.h>
#include <string.h>

#include "addrman.h"
#include "unit.h"

static struct netaddr addr(const char *s)
{
	struct netaddr a;

	memset(&a, 0, sizeof(a));
	if (netaddr_parse(s, 28444, &a) != 0)
		fprintf(stderr, "  test address \"%s\" does not parse\n", s);
	return a;
}

static bool same(const struct netaddr *a, const struct netaddr *b)
{
	return a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

/* The sampled entry for `a` (all entries sampled), or NULL. */
static const struct msg_addr_entry *sampled(const struct msg_addr_entry *e, size_t n,
					    const struct netaddr *a)
{
	for (size_t i = 0; i < n; i++) {
		if (e[i].addr.port == a->port && memcmp(e[i].addr.ip, a->ip, 16) == 0)
			return &e[i];
	}
	return NULL;
}

UNIT_TEST(addrman_add_and_dedupe)
{
	struct addrman *am = addrman_new(16);
	struct netaddr a = addr("8.8.8.8:8333"), a2 = addr("8.8.8.8:8334");
	struct netaddr mapped = addr("[::ffff:8.8.8.8]:8333"), v6 = addr("[2001:db8::1]:8333");
	struct msg_addr_entry out[16];
	const struct msg_addr_entry *e;

	REQUIRE(am != NULL);
	CHECK_EQ_INT(addrman_size(am), 0);
	CHECK_EQ_INT(addrman_add(am, &a, 1, 100), 1);
	CHECK_EQ_INT(addrman_add(am, &a, 4, 50), 0);     /* known */
	CHECK_EQ_INT(addrman_add(am, &mapped, 0, 60), 0); /* same IPv4, mapped */
	CHECK_EQ_INT(addrman_size(am), 1);
	CHECK_EQ_INT(addrman_add(am, &a2, 0, 100), 1);   /* other port: new */
	CHECK_EQ_INT(addrman_add(am, &v6, 8, 70), 1);
	CHECK_EQ_INT(addrman_size(am), 3);

	CHECK_EQ_INT(addrman_sample(am, out, 16), 3);
	e = sampled(out, 3, &a);
	REQUIRE(e != NULL);
	CHECK_EQ_INT(e->time, 100);    /* an older time does not lower it */
	CHECK_EQ_INT(e->addr.services, 5); /* services accumulate */
	CHECK_EQ_INT(e->addr.port, 8333);
	e = sampled(out, 3, &v6);
	REQUIRE(e != NULL);
	CHECK_EQ_INT(e->time, 70);
	CHECK_EQ_INT(e->addr.services, 8);

	/* A newer time refreshes. */
	CHECK_EQ_INT(addrman_add(am, &a, 0, 200), 0);
	addrman_sample(am, out, 16);
	e = sampled(out, 3, &a);
	CHECK(e != NULL && e->time == 200 && e->addr.services == 5);
	addrman_free(am);
	addrman_free(NULL);
}

UNIT_TEST(addrman_rejects_unusable)
{
	struct addrman *am = addrman_new(4);
	struct netaddr a = addr("1.2.3.4:1");
	struct netaddr zero6 = addr("[::]:8333"), zero4 = addr("0.0.0.0:8333");

	a.port = 0;
	CHECK_EQ_INT(addrman_add(am, &a, 1, 1), -1);
	CHECK_EQ_INT(addrman_add(am, &zero6, 1, 1), -1);
	CHECK_EQ_INT(addrman_add(am, &zero4, 1, 1), -1);
	CHECK_EQ_INT(addrman_size(am), 0);
	/* ::1 and 0.0.0.1 are fine (not unspecified). */
	a = addr("[::1]:1");
	CHECK_EQ_INT(addrman_add(am, &a, 0, 1), 1);
	a = addr("0.0.0.1:1");
	CHECK_EQ_INT(addrman_add(am, &a, 0, 1), 1);
	CHECK_EQ_INT(addrman_size(am), 2);
	addrman_free(am);
}

UNIT_TEST(addrman_capacity_replaces_stalest)
{
	struct addrman *am = addrman_new(3);
	struct netaddr a = addr("1.1.1.1"), b = addr("2.2.2.2"), c = addr("3.3.3.3");
	struct netaddr d = addr("4.4.4.4"), e = addr("5.5.5.5");
	struct msg_addr_entry out[8];

	CHECK_EQ_INT(addrman_add(am, &a, 0, 10), 1);
	CHECK_EQ_INT(addrman_add(am, &b, 0, 5), 1);
	CHECK_EQ_INT(addrman_add(am, &c, 0, 20), 1);
	CHECK_EQ_INT(addrman_add(am, &d, 0, 30), 1); /* replaces b (time 5) */
	CHECK_EQ_INT(addrman_size(am), 3);
	CHECK_EQ_INT(addrman_sample(am, out, 8), 3);
	CHECK(sampled(out, 3, &a) != NULL);
	CHECK(sampled(out, 3, &b) == NULL);
	CHECK(sampled(out, 3, &c) != NULL);
	CHECK(sampled(out, 3, &d) != NULL);
	/* b is new again (it was dropped) and replaces a (time 10). */
	CHECK_EQ_INT(addrman_add(am, &b, 0, 40), 1);
	addrman_sample(am, out, 8);
	CHECK(sampled(out, 3, &a) == NULL);
	CHECK(sampled(out, 3, &b) != NULL);
	/* addrman_good refreshes c, so d (30) is now the stalest. */
	addrman_good(am, &c, 50);
	addrman_good(am, &b, 1); /* never lowers */
	CHECK_EQ_INT(addrman_add(am, &e, 0, 45), 1);
	addrman_sample(am, out, 8);
	CHECK(sampled(out, 3, &c) != NULL && sampled(out, 3, &c)->time == 50);
	CHECK(sampled(out, 3, &b) != NULL && sampled(out, 3, &b)->time == 40);
	CHECK(sampled(out, 3, &d) == NULL);
	CHECK(sampled(out, 3, &e) != NULL);
	/* Known addresses never replace anything. */
	CHECK_EQ_INT(addrman_add(am, &e, 0, 99), 0);
	CHECK_EQ_INT(addrman_size(am), 3);
	addrman_free(am);

	/* Capacity 0 means 1. */
	am = addrman_new(0);
	CHECK_EQ_INT(addrman_add(am, &a, 0, 1), 1);
	CHECK_EQ_INT(addrman_add(am, &b, 0, 2), 1);
	CHECK_EQ_INT(addrman_size(am), 1);
	CHECK_EQ_INT(addrman_sample(am, out, 8), 1);
	CHECK_EQ_INT(out[0].addr.port, b.port);
	CHECK(memcmp(out[0].addr.ip, b.ip, 16) == 0);
	addrman_free(am);
}

static bool only_port_2(const struct netaddr *a, void *arg)
{
	int *calls = arg;

	(*calls)++;
	return a->port == 2;
}

static bool none(const struct netaddr *a, void *arg)
{
	(void)a;
	(void)arg;
	return false;
}

UNIT_TEST(addrman_select_filter_and_retry)
{
	struct addrman *am = addrman_new(8);
	struct netaddr a = addr("1.1.1.1:1"), b = addr("1.1.1.1:2"), c = addr("1.1.1.1:3");
	struct netaddr got;
	int calls = 0, seen[4] = { 0 };

	CHECK_EQ_INT(addrman_select(am, 0, 0, NULL, NULL, &got), -1); /* empty */
	addrman_add(am, &a, 0, 1);
	addrman_add(am, &b, 0, 1);
	addrman_add(am, &c, 0, 1);

	/* Without a filter every address is picked sometimes (random start;
	 * 300 draws miss one of three with probability < 1e-50). */
	for (int i = 0; i < 300; i++) {
		CHECK_EQ_INT(addrman_select(am, 0, 0, NULL, NULL, &got), 0);
		if (got.port >= 1 && got.port <= 3)
			seen[got.port]++;
	}
	CHECK(seen[1] > 0 && seen[2] > 0 && seen[3] > 0);
	CHECK_EQ_INT(seen[1] + seen[2] + seen[3], 300);

	for (int i = 0; i < 50; i++) {
		memset(&got, 0, sizeof(got));
		CHECK_EQ_INT(addrman_select(am, 0, 0, only_port_2, &calls, &got), 0);
		CHECK(same(&got, &b));
	}
	CHECK(calls >= 50);
	CHECK_EQ_INT(addrman_select(am, 0, 0, none, NULL, &got), -1);

	/* Retry delay: b tried at 1000 is skipped until 1000 + retry. */
	addrman_attempt(am, &b, 1000);
	CHECK_EQ_INT(addrman_select(am, 1500, 1000, only_port_2, &calls, &got), -1);
	CHECK_EQ_INT(addrman_select(am, 1999, 1000, only_port_2, &calls, &got), -1);
	CHECK_EQ_INT(addrman_select(am, 2000, 1000, only_port_2, &calls, &got), 0);
	CHECK(same(&got, &b));
	/* With a and c also just tried, nothing qualifies. */
	addrman_attempt(am, &a, 1900);
	addrman_attempt(am, &c, 1900);
	CHECK_EQ_INT(addrman_select(am, 1950, 1000, NULL, NULL, &got), -1);
	/* At 2000 only b qualifies. */
	for (int i = 0; i < 30; i++) {
		CHECK_EQ_INT(addrman_select(am, 2000, 1000, NULL, NULL, &got), 0);
		CHECK(same(&got, &b));
	}
	/* An attempt on an unknown address changes nothing. */
	{
		struct netaddr u = addr("9.9.9.9:9");

		addrman_attempt(am, &u, 5000);
		addrman_good(am, &u, 5000);
		CHECK_EQ_INT(addrman_size(am), 3);
	}
	addrman_free(am);
}

UNIT_TEST(addrman_sample_distinct_and_bounded)
{
	struct addrman *am = addrman_new(64);
	struct msg_addr_entry out[64];
	char s[32];

	CHECK_EQ_INT(addrman_sample(am, out, 64), 0);
	for (int i = 0; i < 40; i++) {
		struct netaddr a;

		snprintf(s, sizeof(s), "10.0.%d.%d:%d", i / 8, i % 8 + 1, 1000 + i);
		a = addr(s);
		CHECK_EQ_INT(addrman_add(am, &a, (uint64_t)i, 1000 + i), 1);
	}
	CHECK_EQ_INT(addrman_size(am), 40);
	CHECK_EQ_INT(addrman_sample(am, out, 0), 0);
	CHECK_EQ_INT(addrman_sample(am, out, 10), 10);
	CHECK_EQ_INT(addrman_sample(am, out, 64), 40);
	/* Every entry once, with its own time and services. */
	{
		int count[40] = { 0 };

		for (int k = 0; k < 40; k++) {
			int i = out[k].addr.port - 1000;

			CHECK(i >= 0 && i < 40);
			if (i < 0 || i >= 40)
				continue;
			count[i]++;
			CHECK_EQ_INT(out[k].time, 1000 + i);
			CHECK_EQ_INT(out[k].addr.services, i);
			CHECK_EQ_INT(out[k].addr.ip[10], 0xff);
			CHECK_EQ_INT(out[k].addr.ip[12], 10);
			CHECK_EQ_INT(out[k].addr.ip[14], i / 8);
			CHECK_EQ_INT(out[k].addr.ip[15], i % 8 + 1);
		}
		for (int i = 0; i < 40; i++)
			CHECK_EQ_INT(count[i], 1);
	}
	/* A partial sample holds distinct entries too. */
	{
		int count[40] = { 0 };

		CHECK_EQ_INT(addrman_sample(am, out, 25), 25);
		for (int k = 0; k < 25; k++) {
			int i = out[k].addr.port - 1000;

			if (i >= 0 && i < 40)
				count[i]++;
		}
		for (int i = 0; i < 40; i++)
			CHECK(count[i] <= 1);
	}
	addrman_free(am);
}

/* Every _free (and _clear) accepts NULL, as free() does: the test is that
 * these calls return (the sanitizer run catches a NULL dereference). */
UNIT_TEST(addrman_free_accepts_null)
{
	addrman_free(NULL);
}
