/*
 * rpc_net.c — the network RPCs: getpeerinfo, getnetworkinfo,
 * getconnectioncount, addnode, disconnectnode, ping. Registered by
 * rpc_net_register; each reads or changes the connection manager, and
 * message handling's per-peer state.
 */
#include "rpc_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrman.h"
#include "msg.h"
#include "net.h"
#include "net_processing.h"
#include "util.h"

struct net_rpc {
	struct connman *cm;
	struct net_processing *np;
};

/* A {msgtype: n} object of the non-zero entries of one statistics array. */
static json_t *per_msg(const uint64_t counts[NET_MSGTYPES])
{
	json_t *o = json_object();

	for (int i = 0; i < NET_MSGTYPES; i++) {
		if (counts[i])
			json_object_set_new(o, net_msgtype_name(i), json_integer((json_int_t)counts[i]));
	}
	return o;
}

static json_t *seconds(int64_t us)
{
	return json_real((double)us / 1e6);
}

static void add_ping_fields(json_t *o, const struct peer *p,
			    const struct net_processing_peer *s)
{
	if (s->pingtime_us >= 0)
		json_object_set_new(o, "pingtime", seconds(s->pingtime_us));
	if (p->minping_us >= 0)
		json_object_set_new(o, "minping", seconds(p->minping_us));
	if (s->ping_nonce)
		json_object_set_new(o, "pingwait", seconds(util_mono_us() - s->ping_start_us));
}

static json_t *peer_json(const struct peer *p)
{
	const struct net_processing_peer *s = net_processing_peer(p);
	char services[17];
	json_t *o = json_object();

	snprintf(services, sizeof(services), "%016llx", (unsigned long long)s->services);
	json_object_set_new(o, "id", json_integer(p->id));
	json_object_set_new(o, "addr", json_string(p->addr_str));
	json_object_set_new(o, "addrbind", json_string(p->addrbind_str));
	json_object_set_new(o, "network", json_string(netaddr_network_name(p->network)));
	json_object_set_new(o, "network_id", json_integer(p->network));
	json_object_set_new(o, "services", json_string(services));
	json_object_set_new(o, "connection_type", json_string(net_conn_type_name(p->type)));
	json_object_set_new(o, "inbound", json_boolean(p->type == CONN_INBOUND));
	json_object_set_new(o, "conntime", json_integer(p->conntime));
	json_object_set_new(o, "lastsend", json_integer(p->lastsend));
	json_object_set_new(o, "lastrecv", json_integer(p->lastrecv));
	json_object_set_new(o, "bytessent", json_integer((json_int_t)p->bytessent));
	json_object_set_new(o, "bytesrecv", json_integer((json_int_t)p->bytesrecv));
	json_object_set_new(o, "bytessent_per_msg", per_msg(p->stats.bytes_sent));
	json_object_set_new(o, "bytesrecv_per_msg", per_msg(p->stats.bytes_recv));
	json_object_set_new(o, "msgssent_per_msg", per_msg(p->stats.msgs_sent));
	json_object_set_new(o, "msgsrecv_per_msg", per_msg(p->stats.msgs_recv));
	add_ping_fields(o, p, s);
	json_object_set_new(o, "version", json_integer(s->version));
	json_object_set_new(o, "subver", json_string(s->subver));
	json_object_set_new(o, "startingheight", json_integer(s->startingheight));
	json_object_set_new(o, "relaytxes", json_boolean(s->relaytxes));
	json_object_set_new(o, "minfeefilter", json_real((double)s->feefilter / 1e8));
	return o;
}

static int rpc_getpeerinfo(void *ctx, json_t *params, json_t **result,
			   struct rpc_error *err)
{
	struct connman *cm = ((struct net_rpc *)ctx)->cm;
	json_t *arr = json_array();

	(void)params;
	(void)err;
	/* The list is newest first; report in id order like Bitcoin. */
	for (struct peer *p = net_peers(cm); p; p = p->next) {
		if (p->established && !p->closed)
			json_array_insert_new(arr, 0, peer_json(p));
	}
	*result = arr;
	return 0;
}

static int rpc_getnetworkinfo(void *ctx, json_t *params, json_t **result,
			      struct rpc_error *err)
{
	struct connman *cm = ((struct net_rpc *)ctx)->cm;
	uint64_t in = net_count(cm, true), out = net_count(cm, false);
	char services[17];

	(void)params;
	(void)err;
	snprintf(services, sizeof(services), "%016llx", (unsigned long long)NP_SERVICES);
	*result = json_pack("{s:i,s:s,s:i,s:s,s:I,s:I,s:I,s:b,s:[],s:s}",
			    "version", RPC_NET_NODE_VERSION,
			    "subversion", MSG_USER_AGENT,
			    "protocolversion", MSG_PROTOCOL_VERSION,
			    "localservices", services,
			    "connections", (json_int_t)(in + out),
			    "connections_in", (json_int_t)in,
			    "connections_out", (json_int_t)out,
			    "networkactive", 1,
			    "localaddresses",
			    "warnings", "");
	return 0;
}

static int rpc_getconnectioncount(void *ctx, json_t *params, json_t **result,
				  struct rpc_error *err)
{
	struct connman *cm = ((struct net_rpc *)ctx)->cm;

	(void)params;
	(void)err;
	*result = json_integer((json_int_t)(net_count(cm, true) + net_count(cm, false)));
	return 0;
}

/* getnodeaddresses ( count ): up to count (default 1; 0: all) addresses
 * from the address table, at random, as Bitcoin Core's. */
static int rpc_getnodeaddresses(void *ctx, json_t *params, json_t **result,
				struct rpc_error *err)
{
	struct addrman *am = net_addrman(((struct net_rpc *)ctx)->cm);
	json_t *c = json_array_get(params, 0);
	json_int_t count = c && !json_is_null(c) ? json_integer_value(c) : 1;
	struct msg_addr_entry *e;
	size_t n;

	if (c && !json_is_null(c) && !json_is_integer(c))
		return rpc_fail(err, RPC_TYPE_ERROR, "count must be a number");
	if (count < 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Address count out of range");
	n = count == 0 || (size_t)count > addrman_size(am) ? addrman_size(am) : (size_t)count;
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e)
		return rpc_fail(err, RPC_INTERNAL_ERROR, "out of memory");
	n = addrman_sample(am, e, n);
	*result = json_array();
	for (size_t i = 0; i < n; i++) {
		struct netaddr a;
		char ip[NETADDR_STRLEN];

		memcpy(a.ip, e[i].addr.ip, 16);
		a.port = e[i].addr.port;
		netaddr_format_ip(&a, ip, sizeof(ip));
		json_array_append_new(*result, json_pack("{s:I,s:I,s:s,s:i,s:s}",
			"time", (json_int_t)e[i].time, "services", (json_int_t)e[i].addr.services,
			"address", ip, "port", (int)a.port,
			"network", netaddr_network_name(netaddr_network(&a))));
	}
	free(e);
	return 0;
}

static int rpc_addnode(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	const char *node = rpc_param_str(params, 0), *command = rpc_param_str(params, 1);

	(void)result;
	if (!node || !command)
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"node and command must be strings; usage: addnode \"node\" \"add|remove|onetry\"");
	switch (net_addnode(((struct net_rpc *)ctx)->cm, node, command, err->message,
			    sizeof(err->message))) {
	case NET_OK:
		return 0;
	case NET_ERR_PARAM:
		err->code = RPC_INVALID_PARAMETER;
		return -1;
	case NET_ERR_ALREADY_ADDED:
		err->code = RPC_CLIENT_NODE_ALREADY_ADDED;
		return -1;
	case NET_ERR_NOT_ADDED:
		err->code = RPC_CLIENT_NODE_NOT_ADDED;
		return -1;
	case NET_ERR_CONNECT:
	case NET_ERR_NOMEM:
		break;
	}
	err->code = RPC_MISC_ERROR;
	return -1;
}

/* disconnectnode "address" | disconnectnode "" nodeid | disconnectnode nodeid */
static int rpc_disconnectnode(void *ctx, json_t *params, json_t **result,
			      struct rpc_error *err)
{
	struct connman *cm = ((struct net_rpc *)ctx)->cm;
	json_t *a0 = json_array_get(params, 0), *a1 = json_array_get(params, 1);
	struct peer *p = NULL;
	struct netaddr addr;

	(void)result;
	if (json_is_integer(a0) && (!a1 || json_is_null(a1))) {
		p = net_find_id(cm, json_integer_value(a0));
	} else if (json_is_string(a0) && *json_string_value(a0) &&
		   (!a1 || json_is_null(a1))) {
		if (netaddr_parse(json_string_value(a0), MSG_DEFAULT_PORT, &addr) < 0)
			return rpc_fail(err, RPC_INVALID_PARAMETER, "Invalid address: %s",
					json_string_value(a0));
		p = net_find_addr(cm, &addr);
	} else if (json_is_string(a0) && !*json_string_value(a0) && json_is_integer(a1)) {
		p = net_find_id(cm, json_integer_value(a1));
	} else {
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"Only one of address and nodeid should be provided.");
	}
	if (!p)
		return rpc_fail(err, RPC_CLIENT_NODE_NOT_CONNECTED,
				"Node not found in connected nodes");
	net_close(p, "disconnectnode RPC");
	return 0;
}

static int rpc_ping(void *ctx, json_t *params, json_t **result, struct rpc_error *err)
{
	(void)params;
	(void)result;
	(void)err;
	net_processing_ping_all(((struct net_rpc *)ctx)->np);
	return 0;
}

static const struct rpc_command net_commands[] = {
	{ "getpeerinfo", "network", rpc_getpeerinfo, 0, { NULL }, "getpeerinfo",
	  "Data about each connected peer: address, connection type, traffic per "
	  "message type, ping times, version." },
	{ "getnetworkinfo", "network", rpc_getnetworkinfo, 0, { NULL }, "getnetworkinfo",
	  "The node's version, services and connection counts." },
	{ "getconnectioncount", "network", rpc_getconnectioncount, 0, { NULL },
	  "getconnectioncount", "The number of connections to other nodes." },
	{ "getnodeaddresses", "network", rpc_getnodeaddresses, 0, { "count", NULL },
	  "getnodeaddresses ( count )",
	  "Up to count (default 1; 0: all) known addresses, at random: time, services, "
	  "address, port, network." },
	{ "addnode", "network", rpc_addnode, 2, { "node", "command" },
	  "addnode \"node\" \"add|remove|onetry\"",
	  "Add a peer to the manual list (kept connected), remove it, or try one "
	  "connection now. node is IP:PORT or [IPv6]:PORT." },
	{ "disconnectnode", "network", rpc_disconnectnode, 1, { "address", "nodeid" },
	  "disconnectnode ( \"address\" nodeid )",
	  "Close the connection to a peer, by address or (with address \"\") by id." },
	{ "ping", "network", rpc_ping, 0, { NULL }, "ping",
	  "Ping every peer now; results appear in getpeerinfo's pingtime." },
};

int rpc_net_register(struct rpc_dispatch *d, struct connman *cm, struct net_processing *np)
{
	struct net_rpc ctx = { cm, np };

	return rpc_register_copy(d, net_commands, sizeof(net_commands) / sizeof(net_commands[0]),
				 &ctx, sizeof(ctx));
}
