use std::sync::mpsc::sync_channel;

use super::*;

fn unstarted(capacity: usize) -> (Publisher, Receiver<Message>) {
    let (queue, receiver) = sync_channel(capacity);
    (
        Publisher {
            queue,
            stats: Arc::new(PublisherStats::default()),
            families: Arc::new(Mutex::new(HashMap::new())),
            overflow: Arc::new(Overflow::default()),
            run: 7,
            board: Arc::default(),
            rejoin: Arc::default(),
        },
        receiver,
    )
}

#[test]
fn a_full_queue_drops_and_counts_and_leaves_a_visible_gap() {
    let (publisher, receiver) = unstarted(2);
    let family = publisher.family("market.hl");
    let sent: Vec<bool> = (0..5)
        .map(|i| publisher.publish(&family, "market.hl.trade".into(), "trade", i, &i))
        .collect();
    assert_eq!(sent, [true, true, false, false, false]);
    assert_eq!(publisher.stats().dropped.load(Ordering::Relaxed), 3);
    let first: serde_json::Value = serde_json::from_slice(&receiver.recv().unwrap().body).unwrap();
    let second: serde_json::Value = serde_json::from_slice(&receiver.recv().unwrap().body).unwrap();
    assert_eq!(
        (first["seq"].as_u64(), second["seq"].as_u64()),
        (Some(1), Some(2))
    );
    // The next event that gets through carries seq 6: subscribers see 3..5
    // missing.
    assert!(publisher.publish(&family, "market.hl.trade".into(), "trade", 9, &9));
    let next: serde_json::Value = serde_json::from_slice(&receiver.recv().unwrap().body).unwrap();
    assert_eq!(next["seq"].as_u64(), Some(6));
    assert_eq!(next["run"].as_u64(), Some(7));
}

#[test]
fn an_order_event_that_finds_the_queue_full_waits_beside_it_in_seq_order() {
    let (publisher, receiver) = unstarted(2);
    let orders = publisher.family("orders.hl");
    let market = publisher.family("market.hl");
    for i in 0..5 {
        assert!(publisher.publish(&orders, "orders.hl.update".into(), "update", i, &i));
    }
    assert_eq!(publisher.stats().dropped.load(Ordering::Relaxed), 0);
    // The queue has room again, but a kept event still joins those that
    // wait, so that its family stays in order; a market event takes the
    // queue.
    let seq = |message: &Message| {
        serde_json::from_slice::<serde_json::Value>(&message.body).unwrap()["seq"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(seq(&receiver.recv().unwrap()), 1);
    assert!(publisher.publish(&orders, "orders.hl.update".into(), "update", 5, &5));
    assert!(publisher.publish(&market, "market.hl.trade".into(), "trade", 5, &5));
    let queued: Vec<Message> = receiver.try_iter().collect();
    assert_eq!(
        queued.iter().map(|m| m.topic.as_str()).collect::<Vec<_>>(),
        ["orders.hl.update", "market.hl.trade"]
    );
    assert_eq!(seq(&queued[0]), 2);
    let waited: Vec<u64> = publisher.overflow.take().iter().map(seq).collect();
    assert_eq!(waited, [3, 4, 5, 6]);
    assert!(publisher.overflow.take().is_empty());
}

#[test]
fn events_of_a_family_leave_in_seq_order_whatever_thread_publishes_them() {
    const THREADS: usize = 4;
    const EACH: usize = 5_000;
    let (publisher, receiver) = unstarted(THREADS * EACH);
    let family = publisher.family("orders.hl");
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (publisher, family) = (publisher.clone(), family.clone());
            scope.spawn(move || {
                for i in 0..EACH {
                    // Data of varied size: serializing takes varied time.
                    let data = "x".repeat((thread * 31 + i * 7) % 300);
                    publisher.publish(&family, "orders.hl.update".into(), "update", 0, &data);
                }
            });
        }
    });
    let seqs: Vec<u64> = receiver
        .try_iter()
        .map(|message| {
            let body: serde_json::Value = serde_json::from_slice(&message.body).unwrap();
            body["seq"].as_u64().unwrap()
        })
        .collect();
    let expected: Vec<u64> = (1..=(THREADS * EACH) as u64).collect();
    assert!(seqs == expected, "a subscriber would see a false gap");
}

#[test]
fn families_count_separately_and_are_shared_by_name() {
    let (publisher, _receiver) = unstarted(16);
    let orders = publisher.family("orders.hl");
    let again = publisher.family("orders.hl");
    let market = publisher.family("market.hl");
    publisher.publish(&orders, "orders.hl.created".into(), "created", 1, &1);
    publisher.publish(&again, "orders.hl.created".into(), "created", 1, &1);
    publisher.publish(&market, "market.hl.trade".into(), "trade", 1, &1);
    assert_eq!(*orders.next.lock().unwrap(), 3);
    assert_eq!(*market.next.lock().unwrap(), 2);
    assert_eq!(orders.name(), "orders.hl");
}

#[test]
fn decimals_are_exact_json_numbers() {
    let text = serde_json::to_string(&JsonDecimal("65000.50".parse().unwrap())).unwrap();
    assert_eq!(text, "65000.5");
    let text = serde_json::to_string(&JsonDecimal("0.30000000000000004".parse().unwrap())).unwrap();
    assert_eq!(text, "0.30000000000000004");
}

#[test]
fn events_reach_a_subscriber_over_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("ipc://{}/events.sock", dir.path().display());
    let (publisher, thread) = Publisher::start(&endpoint, 1024).unwrap();
    let context = zmq::Context::new();
    let subscriber = context.socket(zmq::SUB).unwrap();
    subscriber.connect(&endpoint).unwrap();
    subscriber.set_subscribe(b"orders.").unwrap();
    subscriber.set_rcvtimeo(50).unwrap();
    let family = publisher.family("orders.hl");
    // PUB/SUB drops what is sent before the subscription is in place: keep
    // publishing until one arrives.
    let received = (0..200).find_map(|i| {
        publisher.publish(&family, "orders.hl.created".into(), "created", i, &"x");
        subscriber.recv_multipart(0).ok()
    });
    let parts = received.expect("a subscriber receives events");
    assert_eq!(parts[0], b"orders.hl.created");
    let body: serde_json::Value = serde_json::from_slice(&parts[1]).unwrap();
    assert_eq!(body["event_type"], "created");
    assert_eq!(body["data"], "x");
    drop(publisher);
    thread.join();
}

#[test]
fn dropped_subscribers_reconnect_and_hear_again() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    for endpoint in [
        format!("tcp://127.0.0.1:{port}"),
        format!(
            "ipc://{}/events.sock",
            tempfile::tempdir().unwrap().keep().display()
        ),
    ] {
        let (publisher, thread) = Publisher::start(&endpoint, 1024).unwrap();
        let context = zmq::Context::new();
        let subscriber = context.socket(zmq::SUB).unwrap();
        let monitor = "inproc://subscriber-monitor";
        subscriber
            .monitor(monitor, zmq::SocketEvent::DISCONNECTED as i32)
            .unwrap();
        let disconnects = context.socket(zmq::PAIR).unwrap();
        disconnects.connect(monitor).unwrap();
        disconnects.set_rcvtimeo(5_000).unwrap();
        subscriber.connect(&endpoint).unwrap();
        subscriber.set_subscribe(b"").unwrap();
        subscriber.set_rcvtimeo(50).unwrap();
        let family = publisher.family("market.hl");
        let hears = |publisher: &Publisher| {
            (0..200).any(|i| {
                publisher.publish(&family, "market.hl.trade".into(), "trade", i, &"x");
                subscriber.recv_multipart(0).is_ok()
            })
        };
        assert!(hears(&publisher), "{endpoint}: no event before");
        publisher.drop_subscribers();
        publisher.publish(&family, "market.hl.trade".into(), "trade", 0, &"x");
        // The subscriber's connection is closed by the host…
        assert!(
            disconnects.recv_multipart(0).is_ok(),
            "{endpoint}: not disconnected"
        );
        // …and it reconnects on its own.
        assert!(hears(&publisher), "{endpoint}: no event after");
        drop(publisher);
        thread.join();
    }
}

#[test]
fn subscribers_over_the_cap_are_shut_down_as_they_come() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sock");
    let endpoint = format!("ipc://{}", path.display());
    let (publisher, thread) =
        Publisher::start_keeping(&endpoint, 1024, DEFAULT_SPIN, None, None, 2).unwrap();
    // The cap holds on a socket made anew too.
    let family = publisher.family("market.hl");
    publisher.drop_subscribers();
    publisher.publish(&family, "market.hl.trade".into(), "trade", 0, &"x");
    let connect = || {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match std::os::unix::net::UnixStream::connect(&path) {
                Ok(stream) => return stream,
                Err(error) if Instant::now() > deadline => panic!("{error}"),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    };
    std::thread::sleep(Duration::from_millis(100));
    let flood: Vec<std::os::unix::net::UnixStream> = (0..6).map(|_| connect()).collect();
    // The thread looks at its connections whenever it wakes.
    let deadline = Instant::now() + Duration::from_secs(10);
    while publisher
        .stats()
        .connections_refused
        .load(Ordering::Relaxed)
        < 4
    {
        assert!(Instant::now() < deadline, "the flood was not refused");
        publisher.publish(&family, "market.hl.trade".into(), "trade", 0, &"x");
        std::thread::sleep(Duration::from_millis(20));
    }
    let closed = flood
        .into_iter()
        .filter(|mut stream| {
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut byte = [0u8; 64];
            // The greeting may come first; a shut-down connection then ends.
            loop {
                match stream.read(&mut byte) {
                    Ok(0) => return true,
                    Ok(_) => continue,
                    Err(_) => return false,
                }
            }
        })
        .count();
    assert_eq!(closed, 4, "two stay, four are shut down");
    drop(publisher);
    thread.join();
}
