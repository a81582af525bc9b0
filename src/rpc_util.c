/*
 * rpc_util.c — helpers every RPC file shares (rpc_util.h).
 */
#include "rpc_util.h"

#include <stdlib.h>

#include "address.h"
#include "hash.h"
#include "script.h"

json_t *rpc_util_hash_json(const uint8_t h[32])
{
	char hex[65];

	hash_hex_reversed(h, hex);
	return json_string(hex);
}

json_t *rpc_util_amount_json(int64_t sat)
{
	return json_real((double)sat / (double)COIN);
}

json_t *rpc_util_hex_json(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	json_t *j;

	if (!s)
		return json_null();
	hash_hex(p, n, s);
	j = json_string(s);
	free(s);
	return j;
}

json_t *rpc_util_script_json(const uint8_t *s, size_t n)
{
	json_t *o = json_object();
	uint8_t h160[20];

	json_object_set_new(o, "hex", rpc_util_hex_json(s, n));
	if (script_is_p2pkh(s, n, h160)) {
		char addr[ADDRESS_MAX];
		address_encode(h160, addr);
		json_object_set_new(o, "address", json_string(addr));
		json_object_set_new(o, "type", json_string("pubkeyhash"));
	} else {
		json_object_set_new(o, "type", json_string("nonstandard"));
	}
	return o;
}

json_t *rpc_util_tx_json(const struct tx *t)
{
	json_t *o = json_object(), *vin = json_array(), *vout = json_array();

	json_object_set_new(o, "txid", rpc_util_hash_json(t->txid));
	json_object_set_new(o, "hash", rpc_util_hash_json(t->txid));
	json_object_set_new(o, "version", json_integer(t->version));
	json_object_set_new(o, "size", json_integer((json_int_t)t->size));
	json_object_set_new(o, "vsize", json_integer(tx_vsize(t)));
	json_object_set_new(o, "locktime", json_integer(t->locktime));
	for (size_t i = 0; i < t->n_in; i++) {
		const struct txin *in = &t->vin[i];
		json_t *j = json_object();
		if (tx_is_coinbase(t)) {
			json_object_set_new(j, "coinbase", rpc_util_hex_json(in->script_sig, in->script_sig_len));
		} else {
			json_t *ss = json_object();
			json_object_set_new(j, "txid", rpc_util_hash_json(in->prevout.txid));
			json_object_set_new(j, "vout", json_integer(in->prevout.n));
			json_object_set_new(ss, "hex", rpc_util_hex_json(in->script_sig, in->script_sig_len));
			json_object_set_new(j, "scriptSig", ss);
		}
		json_object_set_new(j, "sequence", json_integer(in->sequence));
		json_array_append_new(vin, j);
	}
	for (size_t i = 0; i < t->n_out; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "value", rpc_util_amount_json(t->vout[i].value));
		json_object_set_new(j, "value_sat", json_integer(t->vout[i].value));
		json_object_set_new(j, "n", json_integer((json_int_t)i));
		json_object_set_new(j, "scriptPubKey",
				    rpc_util_script_json(t->vout[i].script_pubkey, t->vout[i].script_pubkey_len));
		json_array_append_new(vout, j);
	}
	json_object_set_new(o, "vin", vin);
	json_object_set_new(o, "vout", vout);
	return o;
}

int rpc_util_param_hash(json_t *params, size_t i, uint8_t out[32], struct rpc_error *err)
{
	const char *s = rpc_param_str(params, i);

	if (!s || hash_from_hex_reversed(s, out) < 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"parameter %zu must be a 64-digit hex hash", i + 1);
	return 0;
}

json_t *rpc_util_tx_hex_json(const struct tx *t)
{
	struct wbuf w;
	json_t *j;

	ser_write_init(&w);
	tx_encode(&w, t);
	j = w.oom ? json_null() : rpc_util_hex_json(w.data, w.len);
	ser_write_free(&w);
	return j;
}

/* An amount in coins (number) to satoshis, exactly to 8 decimals. */
int rpc_util_amount_from_json(json_t *v, int64_t *sat)
{
	double d;

	if (!json_is_number(v))
		return -1;
	d = json_number_value(v) * (double)COIN;
	if (d < 0 || d > (double)MAX_MONEY)
		return -1;
	*sat = (int64_t)(d + 0.5);
	return 0;
}
