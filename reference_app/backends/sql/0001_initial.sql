-- 0001 initial: every table of the ledger and one keyset index per listing.
-- Placeholders: {table} names resolve per namespace and dialect, {ix_*} index names,
-- {ID} {TEXT} {TS} {JSON} {BIGINT} {INT} column types (see dialect.py).
-- Unique constraints are the insert-if-absent conditions of a commit:
-- ids, users.email, and (events.subject, events.sequence).

CREATE TABLE {users} (
    id {ID} PRIMARY KEY,
    name {TEXT} NOT NULL,
    email {TEXT} NOT NULL UNIQUE,
    score {INT} NOT NULL,
    created_at {TS} NOT NULL,
    version {INT} NOT NULL
);

CREATE TABLE {card_requests} (
    id {ID} PRIMARY KEY,
    user_id {ID} NOT NULL,
    status {TEXT} NOT NULL,
    credit_limit_cents {BIGINT} NOT NULL,
    card_id {ID},
    created_at {TS} NOT NULL,
    decided_at {TS},
    version {INT} NOT NULL
);
CREATE INDEX {ix_card_requests_order} ON {card_requests} (created_at, id);
CREATE INDEX {ix_card_requests_user} ON {card_requests} (user_id, created_at, id);
CREATE INDEX {ix_card_requests_status} ON {card_requests} (status, created_at, id);

CREATE TABLE {cards} (
    id {ID} PRIMARY KEY,
    user_id {ID} NOT NULL,
    request_id {ID} NOT NULL,
    status {TEXT} NOT NULL,
    credit_limit_cents {BIGINT} NOT NULL,
    balance_cents {BIGINT} NOT NULL,
    created_at {TS} NOT NULL,
    updated_at {TS} NOT NULL,
    version {INT} NOT NULL
);
CREATE INDEX {ix_cards_order} ON {cards} (created_at, id);
CREATE INDEX {ix_cards_user} ON {cards} (user_id, created_at, id);

CREATE TABLE {transactions} (
    id {ID} PRIMARY KEY,
    card_id {ID} NOT NULL,
    user_id {ID} NOT NULL,
    "type" {TEXT} NOT NULL,
    amount_cents {BIGINT} NOT NULL,
    description {TEXT},
    balance_after_cents {BIGINT} NOT NULL,
    created_at {TS} NOT NULL
);
CREATE INDEX {ix_transactions_card} ON {transactions} (card_id, created_at, id);

CREATE TABLE {events} (
    id {ID} PRIMARY KEY,
    source {TEXT} NOT NULL,
    "type" {TEXT} NOT NULL,
    subject {ID} NOT NULL,
    "time" {TS} NOT NULL,
    sequence {BIGINT} NOT NULL,
    data {JSON} NOT NULL,
    status {TEXT} NOT NULL,
    attempts {INT} NOT NULL,
    next_attempt_at {TS},
    last_error {TEXT},
    published_at {TS},
    UNIQUE (subject, sequence)
);
CREATE INDEX {ix_events_order} ON {events} ("time", id);
CREATE INDEX {ix_events_subject} ON {events} (subject, "time", id);
CREATE INDEX {ix_events_pending} ON {events} (status, subject, sequence);

CREATE TABLE {idempotency} (
    scope {ID} PRIMARY KEY,
    fingerprint {TEXT} NOT NULL,
    state {TEXT} NOT NULL,
    token {TEXT} NOT NULL,
    created_at {TS} NOT NULL,
    expires_at {TS} NOT NULL,
    locked_at {TS} NOT NULL,
    status_code {INT},
    response_body {TEXT},
    response_headers {JSON} NOT NULL
);
