"""The node's version message carries its tip height as start_height
(Bitcoin Core's nStartingHeight), read by a raw test peer, both on an
inbound connection (the node answers) and an outbound one (it speaks
first)."""
from framework import netpeer
from framework.fixtures import node_factory  # noqa: F401  (fixture)


def test_version_start_height_is_tip_height(node_factory):  # noqa: F811
    (n,) = node_factory.start(1)
    for height in (0, 17):
        if height:
            n.generatetoaddress(height, n.getnewkeypair()["address"])
        assert n.getblockcount() == height
        peer = netpeer.connect(n)
        try:
            _, received = peer.handshake()
            assert netpeer.decode_version(received)["start_height"] == height
        finally:
            peer.close()
    listener = netpeer.Listener()
    try:
        n.addnode(listener.addr, "onetry")
        conn = listener.wait_for_connection()
        payload = conn.wait_for_msg("version")
        assert netpeer.decode_version(payload)["start_height"] == 17
    finally:
        listener.close()
