//! smoltcp 0.14 on both hosts: an [`Interface`] with `Medium::Ip` and a [`SocketSet`] each,
//! over a [`Device`] that reads and writes the link's recycled buffers in place
//!
//! smoltcp sockets are single connections: the server keeps one socket listening (more
//! while many connections open at once) and replaces each one that accepts a connection; a
//! finished socket (CLOSED or TIME-WAIT) is reused for the next connection, as smoltcp's
//! examples do.

use std::collections::VecDeque;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

use super::link::{Buf, Direction, Link, Side, MTU};
use super::net::{Net, Recv};
use super::{BUFFER, CLIENT_IP, SERVER_IP, SERVER_PORT};

/// One host's view of the link, lent to its interface for one poll
struct Port<'l> {
    rx: &'l mut Direction,
    tx: &'l mut Direction,
    now: u64,
}

/// A received packet; its buffer returns to the free list of the direction it came from
struct Rx<'l> {
    buf: Option<Buf>,
    len: usize,
    home: &'l mut Direction,
}

/// Room for one packet to send
struct Tx<'l> {
    dir: &'l mut Direction,
    now: u64,
}

impl phy::RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(mut self, f: F) -> R {
        let buf = self.buf.take().expect("buffer");
        let r = f(&buf[..self.len]);
        self.home.recycle(buf);
        r
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self.dir.buffer();
        let r = f(&mut buf[..len]);
        self.dir.push(self.now, buf, len);
        r
    }
}

impl Device for Port<'_> {
    type RxToken<'a>
        = Rx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<'a>
    where
        Self: 'a;

    fn receive(&mut self, _t: Instant) -> Option<(Rx<'_>, Tx<'_>)> {
        let p = self.rx.pop_due(self.now)?;
        let rx = Rx {
            buf: Some(p.buf),
            len: p.len,
            home: self.rx,
        };
        let tx = Tx {
            dir: self.tx,
            now: self.now,
        };
        Some((rx, tx))
    }

    fn transmit(&mut self, _t: Instant) -> Option<Tx<'_>> {
        Some(Tx {
            dir: self.tx,
            now: self.now,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = MTU;
        caps // checksums: computed and verified (the default), as our engine does
    }
}

struct Host {
    iface: Interface,
    sockets: SocketSet<'static>,
    /// Server: sockets in LISTEN, in the order SYNs pick them
    listening: VecDeque<SocketHandle>,
    /// Finished sockets ready for reuse
    spare: Vec<SocketHandle>,
}

impl Host {
    fn new(addr: core::net::Ipv4Addr, link: &mut Link, side: Side, seed: u64) -> Self {
        let (rx, tx) = link.ends(side);
        let mut port = Port { rx, tx, now: 0 };
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut port, Instant::ZERO);
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(IpAddress::Ipv4(addr), 24))
                .expect("address");
        });
        Self {
            iface,
            sockets: SocketSet::new(Vec::new()),
            listening: VecDeque::new(),
            spare: Vec::new(),
        }
    }

    fn socket(&mut self, cc: tcp::CongestionControl) -> SocketHandle {
        if let Some(h) = self.spare.pop() {
            return h;
        }
        let rx = tcp::SocketBuffer::new(vec![0; BUFFER]);
        let tx = tcp::SocketBuffer::new(vec![0; BUFFER]);
        let mut s = tcp::Socket::new(rx, tx);
        s.set_congestion_control(cc);
        self.sockets.add(s)
    }

    fn get(&self, h: SocketHandle) -> &tcp::Socket<'static> {
        self.sockets.get::<tcp::Socket>(h)
    }

    fn get_mut(&mut self, h: SocketHandle) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(h)
    }

    fn listen_one(&mut self, cc: tcp::CongestionControl) {
        let h = self.socket(cc);
        self.get_mut(h).listen(SERVER_PORT).expect("listen");
        self.listening.push_back(h);
    }
}

/// Two smoltcp interfaces over the link
pub struct Smol {
    hosts: [Host; 2],
    cc: tcp::CongestionControl,
    next_port: u16,
}

impl core::fmt::Debug for Smol {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Smol").field("cc", &self.cc).finish()
    }
}

impl Smol {
    /// Two fresh interfaces attached to `link`, every socket with congestion control `cc`
    pub fn new(link: &mut Link, cc: tcp::CongestionControl) -> Self {
        Self {
            hosts: [
                Host::new(CLIENT_IP, link, Side::Client, 1),
                Host::new(SERVER_IP, link, Side::Server, 2),
            ],
            cc,
            next_port: 49152,
        }
    }

    /// `Interface::poll` on both hosts (ingress, then egress)
    fn poll(&mut self, now: u64, link: &mut Link) -> bool {
        let before = link.sent();
        let mut delivered = 0;
        for (side, host) in [Side::Client, Side::Server]
            .into_iter()
            .zip(&mut self.hosts)
        {
            let (rx, tx) = link.ends(side);
            let got = rx.delivered;
            let mut port = Port { rx, tx, now };
            let t = Instant::from_micros(now as i64);
            let _ = host.iface.poll(t, &mut port, &mut host.sockets);
            delivered += port.rx.delivered - got;
        }
        delivered > 0 || link.sent() > before
    }
}

impl Net for Smol {
    type Conn = SocketHandle;

    fn name(&self) -> &'static str {
        "smoltcp"
    }

    fn ingress(&mut self, now: u64, link: &mut Link) -> bool {
        self.poll(now, link)
    }

    fn egress(&mut self, _now: u64, _link: &mut Link) -> bool {
        // `Interface::poll` in `ingress` sent everything; the application's sends go out at
        // the next poll, as in smoltcp's examples (poll, then the application, in a loop).
        false
    }

    fn next_timer(&mut self, now: u64) -> Option<u64> {
        let t = Instant::from_micros(now as i64);
        self.hosts
            .iter_mut()
            .filter_map(|h| h.iface.poll_at(t, &h.sockets))
            .min()
            .map(|i| i.total_micros().max(0) as u64)
    }

    fn listen(&mut self, _backlog: usize) {
        self.hosts[1].listen_one(self.cc);
    }

    fn reserve(&mut self, n: usize) {
        while self.hosts[1].listening.len() < n {
            self.hosts[1].listen_one(self.cc);
        }
    }

    fn connect(&mut self, _now: u64) -> SocketHandle {
        let port = self.next_port;
        self.next_port = if port == u16::MAX { 49152 } else { port + 1 };
        let cc = self.cc;
        let host = &mut self.hosts[0];
        let h = host.socket(cc);
        let remote = (IpAddress::Ipv4(SERVER_IP), SERVER_PORT);
        let cx = host.iface.context();
        host.sockets
            .get_mut::<tcp::Socket>(h)
            .connect(cx, remote, port)
            .expect("connect");
        h
    }

    fn accept(&mut self) -> Option<SocketHandle> {
        let host = &mut self.hosts[1];
        let i = host.listening.iter().position(|&h| {
            !matches!(
                host.sockets.get::<tcp::Socket>(h).state(),
                tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed
            )
        })?;
        let h = host.listening.remove(i)?;
        if host.listening.is_empty() {
            host.listen_one(self.cc);
        }
        Some(h)
    }

    fn is_established(&self, side: Side, c: SocketHandle) -> bool {
        self.hosts[side.index()].get(c).state() == tcp::State::Established
    }

    fn send(&mut self, side: Side, c: SocketHandle, data: &[u8]) -> usize {
        self.hosts[side.index()]
            .get_mut(c)
            .send_slice(data)
            .unwrap_or(0)
    }

    fn recv(&mut self, side: Side, c: SocketHandle, f: &mut dyn FnMut(&[u8])) -> Recv {
        let s = self.hosts[side.index()].get_mut(c);
        let mut total = 0;
        // The ring may wrap: at most two contiguous pieces.
        for _ in 0..2 {
            match s.recv(|buf| {
                f(buf);
                (buf.len(), buf.len())
            }) {
                Ok(0) => break,
                Ok(n) => total += n,
                Err(_) if total > 0 => break,
                Err(tcp::RecvError::InvalidState)
                    if matches!(s.state(), tcp::State::SynSent | tcp::State::SynReceived) =>
                {
                    return Recv::Empty
                }
                Err(_) => return Recv::Eof,
            }
        }
        if total == 0 {
            Recv::Empty
        } else {
            Recv::Data(total)
        }
    }

    fn close(&mut self, side: Side, c: SocketHandle) {
        self.hosts[side.index()].get_mut(c).close();
    }

    fn is_finished(&self, side: Side, c: SocketHandle) -> bool {
        matches!(
            self.hosts[side.index()].get(c).state(),
            tcp::State::Closed | tcp::State::TimeWait
        )
    }

    fn release(&mut self, side: Side, c: SocketHandle) {
        self.hosts[side.index()].spare.push(c);
    }
}
