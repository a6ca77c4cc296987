"""Bridges, network namespaces, veth pairs, IPAM and name resolution.

Never imports `composer`.
"""
