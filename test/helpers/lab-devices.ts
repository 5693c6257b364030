/**
 * Scripted LAN devices for namespace tests, where no real program plays them here: an ONVIF
 * camera (WS-Discovery Hello and ProbeMatches in the form of ONVIF Core Specification §7.3 /
 * WS-Discovery 2005/04), an ONVIF client's Probe, and a TP-Link Kasa plug with the Kasa app's
 * side (python-kasa's XOR protocol on UDP and TCP 9999; sysinfo from python-kasa's fixture
 * tests/fixtures/iot/KP115(US)_1.0_1.0.17.json). Python programs, run with python3.
 */
export const XOR = `
def enc(b):
    k = 171; o = bytearray()
    for c in b:
        k ^= c; o.append(k)
    return bytes(o)
def dec(b):
    k = 171; o = bytearray()
    for c in b:
        o.append(k ^ c); k = c
    return bytes(o)
`;

// The ONVIF camera: a Hello at start (ONVIF Core §7.3.2.1), a ProbeMatches to each Probe for
// NetworkVideoTransmitter or for any type (§7.3.2.2), unicast to the prober.
export const CAMERA = `
import socket, struct, sys, re, uuid
ip = sys.argv[1]
ep = 'urn:uuid:2419d68a-2dd2-21b2-a205-ec6a6b05c2d4'
NS = ('xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" '
      'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
      'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
      'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" '
      'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"')
BODY = ('<wsa:EndpointReference><wsa:Address>' + ep + '</wsa:Address></wsa:EndpointReference>'
        '<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>'
        '<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming '
        'onvif://www.onvif.org/hardware/IPC-HDW2431T onvif://www.onvif.org/name/Garden%20Cam '
        'onvif://www.onvif.org/location/country/france</d:Scopes>'
        '<d:XAddrs>http://' + ip + '/onvif/device_service</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>')
def msg(action, to, relates, body):
    rel = '<wsa:RelatesTo>' + relates + '</wsa:RelatesTo>' if relates else ''
    return ('<?xml version="1.0" encoding="UTF-8"?>\\n<SOAP-ENV:Envelope ' + NS + '><SOAP-ENV:Header>'
            '<wsa:MessageID>uuid:' + str(uuid.uuid4()) + '</wsa:MessageID>' + rel +
            '<wsa:To SOAP-ENV:mustUnderstand="true">' + to + '</wsa:To>'
            '<wsa:Action SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/' + action + '</wsa:Action>'
            '<d:AppSequence SOAP-ENV:mustUnderstand="true" MessageNumber="1" InstanceId="1"/>'
            '</SOAP-ENV:Header><SOAP-ENV:Body>' + body + '</SOAP-ENV:Body></SOAP-ENV:Envelope>').encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 3702))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton('239.255.255.250') + socket.inet_aton(ip))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ip))
s.sendto(msg('Hello', 'urn:schemas-xmlsoap-org:ws:2005:04:discovery', None, '<d:Hello>' + BODY + '</d:Hello>'), ('239.255.255.250', 3702))
print('ready', flush=True)
while True:
    data, addr = s.recvfrom(65535)
    t = data.decode('utf-8', 'replace')
    if '/discovery/Probe<' not in t or addr[0] == ip:
        continue
    types = re.search(r'<[^>]*Types[^>]*>([^<]*)<', t)
    if types and types.group(1).strip() and 'NetworkVideoTransmitter' not in types.group(1):
        continue
    mid = re.search(r'MessageID[^>]*>([^<]+)<', t)
    pm = '<d:ProbeMatches><d:ProbeMatch>' + BODY + '</d:ProbeMatch></d:ProbeMatches>'
    s.sendto(msg('ProbeMatches', 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous', mid.group(1) if mid else None, pm), addr)
`;

// An ONVIF client's Probe for NetworkVideoTransmitter (ONVIF Core §7.3.1), printing the answers.
export const PROBER = `
import socket, sys, time
ip = sys.argv[1]
probe = ('<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
         'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header>'
         '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>'
         '<a:MessageID>uuid:0a6dc791-2be6-4991-9af1-454778a1917a</a:MessageID>'
         '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header><s:Body>'
         '<Probe xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><d:Types '
         'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dp0="http://www.onvif.org/ver10/network/wsdl">'
         'dp0:NetworkVideoTransmitter</d:Types></Probe></s:Body></s:Envelope>').encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((ip, 0))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ip))
s.sendto(probe, ('239.255.255.250', 3702))
s.settimeout(0.5)
end = time.time() + 2
n = 0
while time.time() < end:
    try:
        data, addr = s.recvfrom(65535)
        n += 1
    except socket.timeout:
        pass
print('answers', n)
`;

// python-kasa tests/fixtures/iot/KP115(US)_1.0_1.0.17.json, system.get_sysinfo, alias unmasked.
export const SYSINFO = {
  system: {
    get_sysinfo: {
      active_mode: 'none',
      alias: 'Living Room Lamp',
      dev_name: 'Smart Wi-Fi Plug Mini',
      deviceId: '0000000000000000000000000000000000000000',
      err_code: 0,
      feature: 'TIM:ENE',
      hwId: '00000000000000000000000000000000',
      hw_ver: '1.0',
      icon_hash: '',
      latitude_i: 0,
      led_off: 0,
      longitude_i: 0,
      mac: '00:00:00:00:00:00',
      mic_type: 'IOT.SMARTPLUGSWITCH',
      model: 'KP115(US)',
      next_action: { type: -1 },
      ntc_state: 0,
      obd_src: 'tplink',
      oemId: '00000000000000000000000000000000',
      on_time: 301,
      relay_state: 1,
      rssi: -59,
      status: 'new',
      sw_ver: '1.0.17 Build 210506 Rel.075231',
      updating: 0,
    },
  },
};

// The Kasa plug: UDP 9999 (answers to the sender, as python-kasa's _DiscoverProtocol expects)
// and TCP 9999 (4-byte length prefix, XorTransport).
export const PLUG_PY = `${XOR}
import socket, json, sys, threading
sysinfo = json.dumps(json.loads(sys.argv[1])).encode()
def answer(req):
    q = json.loads(dec(req))
    if 'system' in q and 'get_sysinfo' in q['system']:
        return sysinfo
    return json.dumps({'system': {'set_relay_state': {'err_code': 0}}}).encode()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
u.bind(('0.0.0.0', 9999))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(('0.0.0.0', 9999))
t.listen(4)
def tcp():
    while True:
        c, _ = t.accept()
        buf = b''
        while True:
            d = c.recv(4096)
            if not d:
                break
            buf += d
            while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], 'big'):
                n = int.from_bytes(buf[:4], 'big')
                r = enc(answer(buf[4:4 + n]))
                buf = buf[4 + n:]
                c.sendall(len(r).to_bytes(4, 'big') + r)
        c.close()
threading.Thread(target=tcp, daemon=True).start()
print('ready', flush=True)
while True:
    data, addr = u.recvfrom(65535)
    u.sendto(enc(answer(data)), addr)
`;

// The Kasa app's side: broadcast discovery (python-kasa Discover.DISCOVERY_QUERY), then TCP.
export const KASA_CLIENT = `${XOR}
import socket, json, sys
ip, bcast, plug = sys.argv[1], sys.argv[2], sys.argv[3]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
u.bind((ip, 0))
u.settimeout(2)
u.sendto(enc(json.dumps({'system': {'get_sysinfo': None}}).encode()), (bcast, 9999))
data, addr = u.recvfrom(65535)
print('udp', json.loads(dec(data))['system']['get_sysinfo']['model'])
c = socket.create_connection((plug, 9999), timeout=3)
for q in ({'system': {'set_relay_state': {'state': 1}}}, {'system': {'get_sysinfo': {}}}):
    r = enc(json.dumps(q).encode())
    c.sendall(len(r).to_bytes(4, 'big') + r)
    n = int.from_bytes(c.recv(4), 'big')
    buf = b''
    while len(buf) < n:
        buf += c.recv(n - len(buf))
    print('tcp', dec(buf)[:40])
c.close()
`;

