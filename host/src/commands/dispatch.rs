//! Carrying out commands against the exchanges' order paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use super::batch;
use super::protocol::{BatchFields, Command, NewOrderFields, ReplayFields, Reply, Request};
use super::queries;
use crate::app::reload::Trigger;
use crate::order::TradeType;
use crate::publisher::{Publisher, history, order_json};
use crate::trading::{CommandError, PendingOrder, Trading};

/// What a command came to: its result, the order path's refusal, or the
/// dispatcher's (code, message).
type Outcome = Result<Result<Value, CommandError>, (&'static str, String)>;

/// The exchanges commands can address, by configured name.
pub struct Dispatcher {
    exchanges: Exchanges,
    reload: Option<UnboundedSender<Trigger>>,
    history: Option<History>,
}

/// Where the kept events are, and the publisher whose families they are.
struct History {
    publisher: Publisher,
    state_dir: PathBuf,
}

/// The most events, orders or fills one `replay`, `history` or `fills`
/// reply carries, so that a reply stays a few hundred kilobytes.
pub const PAGE: usize = 1_000;

/// The exchanges commands can address, shared with whoever adds and
/// removes them while the host runs (configuration reloads).
pub type Exchanges = Arc<RwLock<BTreeMap<String, Trading>>>;

fn error_reply(id: Value, error: &CommandError) -> Reply {
    Reply::error(id, error.code(), error.to_string())
}

impl Dispatcher {
    /// Commands over these order paths.
    pub fn new(exchanges: impl IntoIterator<Item = Trading>) -> Dispatcher {
        Dispatcher {
            exchanges: Arc::new(RwLock::new(
                exchanges
                    .into_iter()
                    .map(|trading| (trading.exchange().to_owned(), trading))
                    .collect(),
            )),
            reload: None,
            history: None,
        }
    }

    /// Lets `snapshot` and `replay` answer from `publisher`'s families and
    /// the events kept in `state_dir`.
    pub fn keeping_history(mut self, publisher: Publisher, state_dir: PathBuf) -> Dispatcher {
        self.history = Some(History {
            publisher,
            state_dir,
        });
        self
    }

    /// The exchanges, to add and remove while the host runs.
    pub fn exchanges(&self) -> Exchanges {
        Arc::clone(&self.exchanges)
    }

    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Trading>> {
        self.exchanges
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets the `reload` command ask the host to reload its configuration.
    pub fn reloading_with(mut self, reload: UnboundedSender<Trigger>) -> Dispatcher {
        self.reload = Some(reload);
        self
    }

    /// The order path a command names, or the only one.
    fn exchange(&self, name: Option<&str>) -> Result<Trading, (&'static str, String)> {
        let exchanges = self.read();
        match name {
            Some(name) => exchanges
                .get(name)
                .cloned()
                .ok_or_else(|| ("unknown_exchange", format!("no exchange named `{name}`"))),
            None if exchanges.len() == 1 => exchanges
                .values()
                .next()
                .cloned()
                .ok_or_else(|| ("unknown_exchange", "no exchange".to_owned())),
            None => Err((
                "exchange_required",
                format!(
                    "this host has several exchanges ({}); say which",
                    exchanges.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    fn selected(&self, name: Option<&str>) -> Result<Vec<Trading>, (&'static str, String)> {
        match name {
            Some(_) => self.exchange(name).map(|t| vec![t]),
            None => Ok(self.read().values().cloned().collect()),
        }
    }

    /// Carries out one request. Never blocks on the exchange: a new
    /// order's event and sending (it is journaled already) are left to the
    /// returned [`PendingOrder`], so that the caller can send the reply
    /// before the work that competes with it for the CPU, and a command that
    /// waits (for files or the exchange) to the returned [`Later`], to be
    /// run on a thread outside the runtime (it may block on it).
    pub fn handle_deferred(&self, request: Request) -> Handled {
        let id = request.id;
        let (outcome, pending) = match request.command {
            Command::Buy(fields) => self.new_order(TradeType::Buy, fields),
            Command::Sell(fields) => self.new_order(TradeType::Sell, fields),
            Command::Batch(fields) => self.batch(fields),
            command => match self.slow(&command) {
                Some(Ok(work)) => {
                    return Handled::Later(Later {
                        id,
                        command: command.name(),
                        work,
                    });
                }
                Some(Err(refusal)) => (Err(refusal), None),
                None => (self.carry_out(command), None),
            },
        };
        Handled::Now(reply(id, outcome), pending)
    }

    /// Carries out a command that is answered at once (not a new order,
    /// not one that waits).
    fn carry_out(&self, command: Command) -> Outcome {
        match command {
            Command::Cancel(fields) => self.exchange(fields.exchange.as_deref()).map(|trading| {
                trading
                    .cancel(fields.client_order_id)
                    .map(|()| batch::cancel_requested(fields.client_order_id))
            }),
            Command::Modify(fields) => self
                .exchange(fields.exchange.as_deref())
                .map(|trading| batch::modify(&trading, &fields)),
            Command::GetOrder(fields) => self.exchange(fields.exchange.as_deref()).map(|trading| {
                trading
                    .get(fields.client_order_id)
                    .map(|order| order_json(&order))
                    .ok_or(CommandError::UnknownOrder(fields.client_order_id))
            }),
            Command::CancelAll(fields) => {
                self.selected(fields.exchange.as_deref()).map(|exchanges| {
                    let ids: Vec<String> = exchanges
                        .iter()
                        .flat_map(|trading| trading.cancel_all(fields.trading_pair.as_deref()))
                        .map(|id| id.to_string())
                        .collect();
                    Ok(json!({"cancel_requested": ids}))
                })
            }
            Command::KillSwitch(fields) => {
                self.selected(fields.exchange.as_deref()).map(|exchanges| {
                    let reason = fields
                        .reason
                        .unwrap_or_else(|| "kill switch command".to_owned());
                    let ids: Vec<String> = exchanges
                        .iter()
                        .flat_map(|trading| trading.engage_kill_switch(&reason))
                        .map(|id| id.to_string())
                        .collect();
                    Ok(json!({"kill_switch": "engaged", "cancel_requested": ids}))
                })
            }
            Command::ReleaseKillSwitch(fields) => {
                self.selected(fields.exchange.as_deref()).map(|exchanges| {
                    exchanges
                        .iter()
                        .for_each(|trading| trading.release_kill_switch());
                    Ok(json!({"kill_switch": "released"}))
                })
            }
            Command::Heartbeat(fields) => {
                self.selected(fields.exchange.as_deref()).map(|exchanges| {
                    exchanges.iter().for_each(|trading| trading.heartbeat());
                    Ok(json!({"heartbeat": "noted"}))
                })
            }
            Command::Reload => match &self.reload {
                Some(reload) if reload.send(Trigger::Asked).is_ok() => {
                    Ok(Ok(json!({"reload": "requested"})))
                }
                _ => Err(("unsupported", "this host cannot reload".to_owned())),
            },
            Command::OpenOrders(fields) => {
                self.selected(fields.exchange.as_deref()).map(|exchanges| {
                    let orders: Vec<Value> = exchanges
                        .iter()
                        .flat_map(|trading| trading.open_orders(fields.trading_pair.as_deref()))
                        .map(|order| order_json(&order))
                        .collect();
                    Ok(json!({"orders": orders}))
                })
            }
            Command::Status(fields) => self.selected(fields.exchange.as_deref()).map(|exchanges| {
                Ok(json!({"exchanges": exchanges.iter().map(queries::status).collect::<Vec<_>>()}))
            }),
            Command::Balances(fields) => self
                .selected(fields.exchange.as_deref())
                .map(|exchanges| Ok(queries::balances(&exchanges))),
            Command::Positions(fields) => self
                .selected(fields.exchange.as_deref())
                .and_then(|exchanges| {
                    queries::positions(&exchanges, fields.trading_pair.as_deref())
                })
                .map(Ok),
            Command::Markets(fields) => self
                .selected(fields.exchange.as_deref())
                .and_then(|exchanges| queries::markets(&exchanges, fields.trading_pair.as_deref()))
                .map(Ok),
            Command::Snapshot(fields) => {
                let history = self.kept()?;
                self.selected(fields.exchange.as_deref()).map(|exchanges| {
                    let exchanges: Vec<Value> = exchanges
                        .iter()
                        .map(|trading| snapshot(trading, &history.publisher))
                        .collect();
                    Ok(json!({"run": history.publisher.run(), "exchanges": exchanges}))
                })
            }
            // New orders and commands that wait are not carried out here
            // (`handle_deferred`).
            other => Err((
                "internal",
                format!("`{}` is not carried out at once", other.name()),
            )),
        }
    }

    fn kept(&self) -> Result<&History, (&'static str, String)> {
        self.history
            .as_ref()
            .ok_or_else(|| ("unsupported", "this host keeps no events".to_owned()))
    }

    /// The work of a command that waits — for files (`replay`, `history`,
    /// `fills`) or for the exchange's answer (`set_leverage`,
    /// `set_margin_mode`) — or why it cannot be done; `None` for another
    /// command.
    fn slow(&self, command: &Command) -> Option<Result<Work, (&'static str, String)>> {
        Some(match command {
            Command::Replay(fields) => self.kept().map(|history| {
                let (publisher, state_dir) = (history.publisher.clone(), history.state_dir.clone());
                let fields = fields.clone();
                Box::new(move || replay(&publisher, &state_dir, fields)) as Work
            }),
            Command::History(fields) => self
                .selected(fields.exchange.as_deref())
                .map(|exchanges| {
                    let fields = fields.clone();
                    Box::new(move || queries::history(&exchanges, &fields).map(Ok)) as Work
                }),
            Command::Fills(fields) => self
                .selected(fields.exchange.as_deref())
                .map(|exchanges| {
                    let fields = fields.clone();
                    Box::new(move || queries::fills(&exchanges, &fields).map(Ok)) as Work
                }),
            Command::SetLeverage(fields) | Command::SetMarginMode(fields) => self
                .exchange(fields.exchange.as_deref())
                .map(|trading| {
                    let fields = fields.clone();
                    Box::new(move || {
                        let set = trading.block_on(trading.set_leverage(
                            &fields.trading_pair,
                            fields.leverage,
                            fields.margin_mode,
                        ));
                        Ok(set.map(|()| {
                            json!({"exchange": trading.exchange(), "trading_pair": fields.trading_pair,
                                "leverage": fields.leverage, "margin_mode": fields.margin_mode})
                        }))
                    }) as Work
                }),
            _ => return None,
        })
    }

    fn new_order(
        &self,
        side: TradeType,
        fields: NewOrderFields,
    ) -> (Outcome, Option<PendingOrder>) {
        let trading = match self.exchange(fields.exchange.as_deref()) {
            Ok(trading) => trading,
            Err(error) => return (Err(error), None),
        };
        let command = match fields.order_command(side) {
            Ok(command) => command,
            Err(error) => return (Ok(Err(error)), None),
        };
        match trading.accept(&command) {
            Ok(pending) => (Ok(Ok(batch::placed(&trading, pending.id()))), Some(pending)),
            Err(error) => (Ok(Err(error)), None),
        }
    }

    fn batch(&self, fields: BatchFields) -> (Outcome, Option<PendingOrder>) {
        let trading = match self.exchange(fields.exchange.as_deref()) {
            Ok(trading) => trading,
            Err(error) => return (Err(error), None),
        };
        let count = fields.commands.len();
        if count == 0 || count > batch::MAX_BATCH_COMMANDS {
            let message = format!(
                "`commands`: a batch has 1 to {} elements, not {count}",
                batch::MAX_BATCH_COMMANDS
            );
            return (Err(("bad_request", message)), None);
        }
        let (result, pending) = batch::carry_out(&trading, fields.commands);
        (Ok(Ok(result)), Some(pending))
    }
}

/// One exchange's state now, each part with the seq of the last event of
/// its family it includes at least (taken before the state is read).
fn snapshot(trading: &Trading, publisher: &Publisher) -> Value {
    let exchange = trading.exchange();
    let orders_seq = publisher.family(&format!("orders.{exchange}")).last_seq();
    let open: Vec<Value> = trading.open_orders(None).iter().map(order_json).collect();
    json!({
        "exchange": exchange,
        "orders": {"seq": orders_seq, "open": open},
        "account": trading.account().snapshot(),
        "books": trading.market_data().sync_states(),
        "kill_switch": trading.kill_switch_reason(),
    })
}

/// A page of the kept events of `fields.family` (`replay`).
fn replay(publisher: &Publisher, state_dir: &Path, fields: ReplayFields) -> Outcome {
    let limit = fields.limit.unwrap_or(PAGE).clamp(1, PAGE);
    match history::replay(state_dir, &fields.family, fields.after, limit) {
        Ok(page) => Ok(Ok(json!({
            "family": fields.family,
            "run": publisher.run(),
            "events": page.events,
            "next": page.next,
            "complete": page.complete,
            "missing": page.missing,
        }))),
        Err(error @ history::ReplayError::NotKept(_)) => {
            Err(("bad_request", format!("`family`: {error}")))
        }
        Err(error) => Err(("internal", error.to_string())),
    }
}

/// The reply to request `id` whose command came to `outcome`.
fn reply(id: Value, outcome: Outcome) -> Reply {
    match outcome {
        Ok(Ok(result)) => Reply::ok(id, result),
        Ok(Err(error)) => error_reply(id, &error),
        Err((code, message)) => Reply::error(id, code, message),
    }
}

/// What carrying out a request came to.
#[allow(
    clippy::large_enum_variant,
    reason = "made and taken apart once per command; boxing would allocate on the order path"
)]
pub enum Handled {
    /// The reply, and a new order to launch once the reply is sent.
    Now(Reply, Option<PendingOrder>),
    /// A command that waits, to be run off the command thread.
    Later(Later),
}

/// A command that waits for files (`replay`, `history`, `fills`) or for
/// the exchange (`set_leverage`, `set_margin_mode`): the command thread
/// hands it to another.
pub struct Later {
    /// The request's id.
    pub id: Value,
    /// The command's `cmd`.
    pub command: &'static str,
    work: Work,
}

/// The work of a command that waits.
type Work = Box<dyn FnOnce() -> Outcome + Send>;

impl Later {
    /// A query of `command` whose work is `work` (tests).
    #[cfg(test)]
    pub(super) fn new(
        id: Value,
        command: &'static str,
        work: impl FnOnce() -> Outcome + Send + 'static,
    ) -> Later {
        Later {
            id,
            command,
            work: Box::new(work),
        }
    }

    /// Runs the command and gives its reply; it may block on the exchange's
    /// runtime, so it runs on a thread outside it.
    pub fn run(self) -> Reply {
        reply(self.id, (self.work)())
    }
}
