"""Network: the server's own port on 127.0.0.1 and ::1, its Unix socket,
and the runner's loopback listeners (which must never see a connection).
Every address here is loopback or a path on this machine."""
from ._casedef import case

C = 'network'
NET_BYPASS_ERRORS = {'PermissionError', 'OSError', 'FileNotFoundError'}


def _net(name, code, forbid=(r'CONNECTED',)):
	# every one of these starts with socket()/socketpair(): a kill names it
	return case(C, name, code, os_level=True, forbid=forbid,
				bypass_errors=NET_BYPASS_ERRORS, killed_match=r'socket')


CASES = [
	_net('pg_port_ipv4', '''
import _socket
s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
s.settimeout(1)
s.connect(("127.0.0.1", context["pg_port"]))
print("CONNECTED")
'''),
	_net('pg_port_ipv6', '''
import _socket
s = _socket.socket(_socket.AF_INET6, _socket.SOCK_STREAM)
s.settimeout(1)
s.connect(("::1", context["pg_port"]))
print("CONNECTED")
'''),
	_net('pg_unix_socket', '''
import _socket
s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
s.connect(context["pg_socket"])
print("CONNECTED")
'''),
	_net('pg_startup_packet', '''
import _socket, struct
s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
s.connect(context["pg_socket"])
body = struct.pack("!i", 196608) + b"user\\0postgres\\0database\\0postgres\\0\\0"
s.sendall(struct.pack("!i", len(body) + 4) + body)
print("CONNECTED", s.recv(100))
'''),
	_net('listener_ipv4', '''
import _socket
s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
s.settimeout(1)
s.connect(("127.0.0.1", context["listen_port"]))
s.sendall(b"PWNED")
print("CONNECTED")
'''),
	_net('listener_ipv6', '''
import _socket
s = _socket.socket(_socket.AF_INET6, _socket.SOCK_STREAM)
s.settimeout(1)
s.connect(("::1", context["listen_port6"] or context["listen_port"]))
s.sendall(b"PWNED")
print("CONNECTED")
'''),
	_net('listener_unix', '''
import _socket
s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
s.connect(context["listen_unix"])
s.sendall(b"PWNED")
print("CONNECTED")
'''),
	_net('listener_udp', '''
import _socket
s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
s.sendto(b"PWNED", ("127.0.0.1", context["listen_udp_port"]))
print("CONNECTED")
'''),
	_net('socket_module', '''
import socket
c = socket.create_connection(("127.0.0.1", context["listen_port"]), timeout=1)
print("CONNECTED")
'''),
	_net('bind_listen', '''
import _socket
s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(1)
print("CONNECTED", s.getsockname())
'''),
	_net('socketpair', '''
import _socket
a, b = _socket.socketpair()
a.send(b"x")
print("CONNECTED", b.recv(1))
'''),
	_net('raw_socket', '''
import _socket
s = _socket.socket(_socket.AF_INET, _socket.SOCK_RAW, 1)
print("CONNECTED")
'''),
	_net('netlink_socket', '''
import _socket
s = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_RAW, 0)
s.bind((0, 0))
print("CONNECTED")
'''),
	_net('packet_socket', '''
import _socket
s = _socket.socket(_socket.AF_PACKET, _socket.SOCK_RAW, 0)
print("CONNECTED")
'''),
	_net('interfaces', '''
import _socket
print("CONNECTED", _socket.if_nameindex())
''', forbid=[r'CONNECTED.*(eth|ens|enp|wl|lo)']),
	_net('urllib_loopback', '''
import urllib.request
urllib.request.urlopen("http://127.0.0.1:%d/" % context["listen_port"], timeout=1)
print("CONNECTED")
'''),
]
