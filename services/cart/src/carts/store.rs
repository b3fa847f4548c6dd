//! Carts in Redis: one hash per cart (SKU → quantity) with a TTL refreshed on every use. Writes
//! that check a limit run as Lua scripts, so the check and the write are one atomic step.

use std::collections::HashMap;
use std::sync::Arc;

use redis::Script;
use redis::aio::ConnectionManager;

use crate::config::CartLimits;
use crate::error::Error;
use crate::ids::{CartId, Sku};

/// Whose cart: a signed-in user's, or a guest's by its opaque id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartOwner {
    User(String),
    Guest(CartId),
}

/// What a limited write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// The line now has this quantity.
    Done(i64),
    TooManyLines,
    TooMany,
}

const ADD: &str = r"
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if current == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return -1 end
local new = current + tonumber(ARGV[2])
if new > tonumber(ARGV[3]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], new)
redis.call('EXPIRE', KEYS[1], ARGV[5])
return new
";

const SET: &str = r"
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1])
if exists == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return tonumber(ARGV[2])
";

/// Guest lines into the user's cart: quantities add up (capped), lines beyond the limit are
/// dropped, and the guest cart is deleted. Returns how many lines were dropped.
const MERGE: &str = r"
local guest = redis.call('HGETALL', KEYS[1])
local dropped = 0
for i = 1, #guest, 2 do
  local sku = guest[i]
  local current = tonumber(redis.call('HGET', KEYS[2], sku) or '0')
  if current == 0 and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[2]) then
    dropped = dropped + 1
  else
    redis.call('HSET', KEYS[2], sku, math.min(current + tonumber(guest[i + 1]), tonumber(ARGV[1])))
  end
end
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return dropped
";

/// Takes ordered quantities out of the cart, keeping anything added since the order was taken.
const SUBTRACT: &str = r"
for i = 1, #ARGV, 2 do
  local left = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') - tonumber(ARGV[i + 1])
  if left > 0 then redis.call('HSET', KEYS[1], ARGV[i], left) else redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
";

#[derive(Clone)]
pub struct CartStore {
    redis: ConnectionManager,
    prefix: String,
    limits: CartLimits,
    scripts: Arc<[Script; 4]>,
}

impl std::fmt::Debug for CartStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CartStore")
            .field("prefix", &self.prefix)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl CartStore {
    pub fn new(redis: ConnectionManager, prefix: &str, limits: CartLimits) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            limits,
            scripts: Arc::new([
                Script::new(ADD),
                Script::new(SET),
                Script::new(MERGE),
                Script::new(SUBTRACT),
            ]),
        }
    }

    pub fn limits(&self) -> CartLimits {
        self.limits
    }

    fn key(&self, owner: &CartOwner) -> String {
        match owner {
            CartOwner::User(id) => format!("{}cart:u:{id}", self.prefix),
            CartOwner::Guest(id) => format!("{}cart:g:{id}", self.prefix),
        }
    }

    fn ttl(&self) -> u64 {
        self.limits.ttl.as_secs().max(1)
    }

    /// The cart's lines by SKU; reading counts as activity and refreshes the TTL.
    pub async fn lines(&self, owner: &CartOwner) -> Result<Vec<(Sku, i64)>, Error> {
        let key = self.key(owner);
        let (raw, _): (HashMap<String, i64>, i64) = redis::pipe()
            .cmd("HGETALL")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(self.ttl())
            .query_async(&mut self.redis.clone())
            .await?;
        let mut lines: Vec<(Sku, i64)> = raw
            .into_iter()
            .filter_map(|(sku, quantity)| Sku::parse(&sku).ok().map(|sku| (sku, quantity)))
            .filter(|(_, quantity)| *quantity > 0)
            .collect();
        lines.sort();
        Ok(lines)
    }

    pub async fn quantity(&self, owner: &CartOwner, sku: &Sku) -> Result<i64, Error> {
        let quantity: Option<i64> = redis::cmd("HGET")
            .arg(self.key(owner))
            .arg(sku.as_str())
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(quantity.unwrap_or(0))
    }

    pub async fn add(&self, owner: &CartOwner, sku: &Sku, quantity: i64) -> Result<Write, Error> {
        let result: i64 = self.scripts[0]
            .key(self.key(owner))
            .arg(sku.as_str())
            .arg(quantity)
            .arg(self.limits.max_quantity)
            .arg(self.limits.max_lines)
            .arg(self.ttl())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(outcome(result))
    }

    pub async fn set(&self, owner: &CartOwner, sku: &Sku, quantity: i64) -> Result<Write, Error> {
        let result: i64 = self.scripts[1]
            .key(self.key(owner))
            .arg(sku.as_str())
            .arg(quantity)
            .arg(self.limits.max_lines)
            .arg(self.ttl())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(outcome(result))
    }

    /// Removes a line; `false` when it was not in the cart.
    pub async fn remove(&self, owner: &CartOwner, sku: &Sku) -> Result<bool, Error> {
        let removed: i64 = redis::cmd("HDEL")
            .arg(self.key(owner))
            .arg(sku.as_str())
            .query_async(&mut self.redis.clone())
            .await?;
        Ok(removed > 0)
    }

    /// Moves a guest's lines into a user's cart; returns how many lines did not fit.
    pub async fn merge(&self, guest: &CartId, user: &str) -> Result<i64, Error> {
        let dropped: i64 = self.scripts[2]
            .key(self.key(&CartOwner::Guest(guest.clone())))
            .key(self.key(&CartOwner::User(user.to_owned())))
            .arg(self.limits.max_quantity)
            .arg(self.limits.max_lines)
            .arg(self.ttl())
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(dropped)
    }

    /// Takes these quantities out (after they were ordered).
    pub async fn subtract(&self, owner: &CartOwner, lines: &[(Sku, i64)]) -> Result<(), Error> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut invocation = self.scripts[3].key(self.key(owner));
        for (sku, quantity) in lines {
            invocation.arg(sku.as_str()).arg(*quantity);
        }
        let _: i64 = invocation.invoke_async(&mut self.redis.clone()).await?;
        Ok(())
    }
}

fn outcome(result: i64) -> Write {
    match result {
        -1 => Write::TooManyLines,
        -2 => Write::TooMany,
        n => Write::Done(n),
    }
}
