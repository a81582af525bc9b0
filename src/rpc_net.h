/*
 * rpc_net.h — registers the network RPC commands (getpeerinfo,
 * getnetworkinfo, getconnectioncount, addnode, disconnectnode, ping).
 */
#ifndef MR_RPC_NET_H
#define MR_RPC_NET_H

#include "net.h"
#include "net_processing.h"
#include "rpc.h"

/* The node's version number as getnetworkinfo reports it (0.1.0). */
#define RPC_NET_NODE_VERSION 100

/* Register the commands, acting on cm and its message handling np (both
 * must outlive the dispatcher's use). Returns 0 or -1 (name clash, OOM). */
int rpc_net_register(struct rpc_dispatch *d, struct connman *cm, struct net_processing *np);

#endif
