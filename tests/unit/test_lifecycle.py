from composer.lifecycle import container_resolv_conf


def test_loopback_resolvers_and_comments_are_dropped() -> None:
    host = "# generated\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 10.0.0.2\nsearch example.org\noptions edns0\n"
    assert container_resolv_conf(host) == "nameserver 10.0.0.2\nsearch example.org\noptions edns0\n"
