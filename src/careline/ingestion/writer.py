"""One ingestion batch written in the caller's unit of work: dedupe, identify, thread, triage, listen, and what
alerting must see (docs/ingestion.md). ``handlers.Ingestor`` owns the transaction and its retries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from careline.alerts.handlers import Observation, spike_keys
from careline.alerts.rules import Signals
from careline.channels.model import ChannelAccount, ChannelKind
from careline.contacts.events import CustomerCreated
from careline.contacts.model import Customer, Identity
from careline.conversations.model import (
    Conversation,
    Direction,
    Message,
    Visibility,
    explicit_thread,
    message_thread,
)
from careline.ingestion.listening import RuleMatch, matches, with_rules
from careline.ingestion.model import BatchResult, InboundAttachment, InboundMessage, ItemResult
from careline.kernel.ids import new_id
from careline.triage import listening
from careline.triage.model import ListeningMatch, ListeningRule, Post, Triager, Verdict
from careline.triage.policy import PolicyRule, parse_rules
from careline.triage.rules import KeywordRouter
from careline.unit_of_work import UnitOfWork

MAX_TEXT = 20_000


class BatchWriter:
    """Writes one batch; the caller commits. It is long because a batch is one pass: look-ups are batched, so
    the steps share their maps (known messages, customers, threads) rather than query again."""

    def __init__(
        self,
        uow: UnitOfWork,
        now: datetime,
        triage: Triager,
        rules: list[tuple[ListeningRule, listening.Query]],
        create_accounts: bool,
    ) -> None:
        self.uow = uow
        self.now = now
        self.triage = triage
        self.rules = rules
        self.verdicts: dict[int, Verdict] = {}  # batch index -> triage of that inbound message
        self.matches: dict[int, list[RuleMatch]] = {}  # batch index -> listening rules it matches
        self.observations: list[Observation] = []  # new inbound posts, for alerting
        self.rule_matches: list[ListeningMatch] = []
        self.policies: dict[str, tuple[PolicyRule, ...] | None] = {}
        self.create_accounts = create_accounts
        self.result = BatchResult(items=[])
        self.accounts: dict[tuple[str, str], ChannelAccount | None] = {}
        queues = uow.queues.all()
        self.router = KeywordRouter(queues)
        self.queues_by_id = {q.id: q for q in queues}
        self.categories = {c.name: c for c in uow.categories.all()}
        # Filled for the whole batch at once (one query each, not one per account); a customer created
        # while writing one account's messages is found by the next account of the same channel kind.
        self.known: dict[str, dict[str, str]] = {}  # account id -> platform message id -> conversation id
        self.customers: dict[str, dict[str, str]] = {}  # channel kind -> author id -> customer id
        self.new_customers: list[Customer] = []
        self.new_identities: list[Identity] = []
        self.attachments: list[tuple[str, InboundAttachment]] = []  # (message id, file) of new messages

    def write(self, batch: Sequence[InboundMessage]) -> BatchResult:
        items: list[tuple[int, InboundMessage, ChannelAccount]] = []
        for index, item in enumerate(batch):
            problem = _problem(item)
            account = None if problem else self._account(item)
            if problem is None and account is None:
                problem = f"unknown channel account {item.channel}/{item.account}; create it first"
            if problem or account is None:
                self.result.items.append(ItemResult(index, "rejected", error=problem))
            else:
                items.append((index, item, account))
        by_account: dict[str, list[tuple[int, InboundMessage, ChannelAccount]]] = {}
        for entry in items:
            by_account.setdefault(entry[2].id, []).append(entry)
        self._look_up(by_account)
        self._assess(items)
        messages: list[Message] = []
        for entries in by_account.values():
            messages.extend(self._write_account(entries))
        self.uow.customers.add_many(self.new_customers, self.new_identities)
        self.uow.record(
            *(
                CustomerCreated(
                    occurred_at=self.now,
                    actor="system:ingestion",
                    customer_id=i.customer_id,
                    channel=i.channel,
                    external_id=i.external_id,
                )
                for i in self.new_identities
            )
        )
        self.result.customers_created += len(self.new_customers)
        self.uow.messages.add_many(messages)
        if self.attachments:
            self.uow.attachments.add_many(self.attachments)
        self.uow.listening.add_matches(self.rule_matches)
        self.result.items.sort(key=lambda r: r.index)
        return self.result

    def _account(self, item: InboundMessage) -> ChannelAccount | None:
        key = (item.channel, item.account)
        if key not in self.accounts:
            account = self.uow.accounts.find(*key)
            if account is None and self.create_accounts:
                account = ChannelAccount(new_id("acc"), ChannelKind(item.channel), item.account, self.now)
                self.uow.accounts.add(account)
            self.accounts[key] = account
        return self.accounts[key]

    def _look_up(self, by_account: dict[str, list[tuple[int, InboundMessage, ChannelAccount]]]) -> None:
        """Stored messages (and reply parents) of every account, and known authors of every channel kind."""
        wanted = {
            account_id: [i.platform_message_id for _, i, _ in entries]
            + [i.reply_to for _, i, _ in entries if i.reply_to]
            for account_id, entries in by_account.items()
        }
        self.known = self.uow.messages.conversations_of(wanted)
        authors: dict[str, set[str]] = {}
        for entries in by_account.values():
            kind = entries[0][2].kind.value
            authors.setdefault(kind, set()).update(i.author_id for _, i, _ in entries if i.direction == "inbound")
        self.customers = {kind: self.uow.customers.customers_for(kind, ids) for kind, ids in authors.items()}

    def _assess(self, items: list[tuple[int, InboundMessage, ChannelAccount]]) -> None:
        """Triage every new inbound message of the batch in one call (models score a batch at once)."""
        fresh = [
            (index, item, account)
            for index, item, account in items
            if item.direction == "inbound" and item.platform_message_id not in self.known[account.id]
        ]
        known_customers = {
            index: self.customers[account.kind.value].get(item.author_id) for index, item, account in fresh
        }
        tiers = self.uow.customers.tiers(c for c in known_customers.values() if c)
        posts = [
            Post(
                text=item.text,
                channel=account.kind.value,
                public=item.visibility == "public",
                account=account.id,
                followers=item.author_followers,
                verified=item.author_verified,
                engagements=item.engagements,
                posted_at=item.created_at,
                policy=self._policy(account),
                customer_tier=tiers.get(known_customers[index] or ""),
            )
            for index, item, account in fresh
        ]
        verdicts = self.triage.assess_many(posts, self.now)
        self.verdicts = {index: verdict for (index, _, _), verdict in zip(fresh, verdicts, strict=True)}
        for (index, item, account), verdict in zip(fresh, verdicts, strict=True):
            post = listening.Post(
                text=item.text,
                language=verdict.language,
                channel=account.kind.value,
                account=account.name,
                author=item.author_name or item.author_id,
            )
            self.matches[index] = matches(self.rules, post)

    def _policy(self, account: ChannelAccount) -> tuple[PolicyRule, ...] | None:
        """The account's own response policy (validated when it was set), parsed once per batch."""
        if account.id not in self.policies:
            raw = account.config.get("policy")
            self.policies[account.id] = tuple(parse_rules(raw)) if raw else None
        return self.policies[account.id]

    def _write_account(self, entries: list[tuple[int, InboundMessage, ChannelAccount]]) -> list[Message]:
        account = entries[0][2]
        uow = self.uow
        known = self.known[account.id]
        thread_keys = [explicit_thread(i.thread_key) for _, i, _ in entries if i.thread_key]
        threads = uow.conversations.by_thread_keys(account.id, thread_keys)
        threads_by_id = uow.conversations.by_ids(set(known.values()))
        customers = self.customers[account.kind.value]
        stored: list[Message] = []
        for index, item, _ in entries:
            if item.platform_message_id in known:
                self.result.items.append(
                    ItemResult(index, "duplicate", conversation_id=known[item.platform_message_id])
                )
                continue
            inbound = item.direction == "inbound"
            customer_id = None
            if inbound:
                customer_id = customers.get(item.author_id)
                if customer_id is None:
                    customer = Customer(new_id("cus"), item.author_name or item.author_id, self.now)
                    customer_id = customers[item.author_id] = customer.id
                    self.new_customers.append(customer)
                    self.new_identities.append(
                        Identity(account.kind.value, item.author_id, customer.id, item.author_name)
                    )
            verdict = self.verdicts.get(index)
            message = self._message(item, account, customer_id, verdict)
            conversation = None
            conversation_is_new = False
            if item.reply_to and item.reply_to in known:
                conversation = threads_by_id.get(known[item.reply_to])
            if conversation is None and item.thread_key:
                conversation = threads.get(explicit_thread(item.thread_key))
            if conversation is None:
                if item.thread_key:
                    thread_key = explicit_thread(item.thread_key)
                else:
                    thread_key = message_thread(item.platform_message_id)
                conversation = self._start(message, customer_id, thread_key, verdict, self.matches.get(index, []))
                threads[thread_key] = conversation
                conversation_is_new = True
                self.result.conversations_created += 1
            threads_by_id[conversation.id] = conversation
            message.conversation_id = conversation.id
            if inbound:
                if conversation.customer_id is None:
                    conversation.customer_id = customer_id
                conversation.receive(message, actor=f"customer:{customer_id}")
                if verdict is not None and not conversation_is_new:
                    conversation.escalate(
                        priority=verdict.priority.score,
                        angry=verdict.angry,
                        explanation=verdict.priority.explanation(),
                        sentiment=(verdict.sentiment, verdict.sentiment_score),
                        at=message.created_at,
                    )
            else:
                conversation.send(message, actor=f"brand:{item.author_id}")
            known[item.platform_message_id] = conversation.id
            stored.append(message)
            self.attachments.extend((message.id, attachment) for attachment in item.attachments)
            if verdict is not None:
                self._observe(index, item, account, message, conversation, verdict)
            self.result.items.append(ItemResult(index, "created", message.id, conversation.id))
        return stored

    def _observe(
        self,
        index: int,
        item: InboundMessage,
        account: ChannelAccount,
        message: Message,
        conversation: Conversation,
        verdict: Verdict,
    ) -> None:
        """Listening matches and what alerting needs to know of a new inbound post."""
        found = self.matches.get(index, [])
        tags = {tag for m in found for tag in m.rule.tags}
        if tags:
            conversation.tag(add=tags, remove=set(), at=message.created_at, actor="system:listening")
        self.rule_matches.extend(
            ListeningMatch(m.rule.id, message.id, conversation.id, m.terms, self.now) for m in found
        )
        signals = Signals(
            post_id=message.id,
            text=item.text,
            public=item.visibility == "public",
            angry=verdict.angry,
            sentiment=verdict.sentiment,
            followers=item.author_followers,
            verified=item.author_verified,
            pii=verdict.pii,
            account=account.name,
        )
        self.observations.append(
            Observation(
                post_id=message.id,
                conversation_id=conversation.id,
                at=message.created_at,
                signals=signals,
                spike_keys=spike_keys(account.name, verdict.sentiment, verdict.category),
                listening=tuple((m.rule.id, m.rule.name) for m in found if m.rule.alert),
            )
        )

    def _message(
        self, item: InboundMessage, account: ChannelAccount, customer_id: str | None, verdict: Verdict | None
    ) -> Message:
        inbound = item.direction == "inbound"
        return Message(
            id=new_id("msg"),
            conversation_id="",
            channel_account_id=account.id,
            direction=Direction(item.direction),
            visibility=Visibility(item.visibility),
            text=item.text,
            created_at=item.created_at or self.now,
            received_at=self.now,
            platform_message_id=item.platform_message_id,
            reply_to_platform_id=item.reply_to,
            author_external_id=item.author_id,
            customer_id=customer_id,
            raw=item.raw,
            sentiment_label=verdict.sentiment if verdict else None,
            sentiment_score=verdict.sentiment_score if verdict else None,
            delivery_status=None if inbound else "external",
            language=verdict.language if verdict else None,
            pii=verdict.pii if verdict else (),
            masked_text=verdict.masked_text if verdict else None,
            triage=_message_triage(verdict) if verdict else None,
        )

    def _start(
        self,
        message: Message,
        customer_id: str | None,
        thread_key: str,
        verdict: Verdict | None,
        found: list[RuleMatch],
    ) -> Conversation:
        queue, rule = self.router.pick(message.text) if customer_id else (self.router.default, None)
        category = self.categories.get(verdict.category) if verdict and verdict.category else None
        routed = next((m.rule for m in found if m.rule.queue_id), None)
        if routed is not None and routed.queue_id is not None:
            # A listening rule someone saved on purpose outranks the queues' keywords.
            queue, rule = self.queues_by_id[routed.queue_id], f"listening:{routed.name}"
        elif category is not None and category.queue_id is not None and customer_id:
            queue, rule = self.queues_by_id[category.queue_id], f"category:{category.name}"
        conversation = Conversation.start(
            id=new_id("cnv"),
            message=message,
            customer_id=customer_id,
            thread_key=thread_key,
            queue_id=queue.id,
            actor=f"customer:{customer_id}" if customer_id else f"brand:{message.author_external_id}",
        )
        label, score = message.sentiment_label or "neutral", message.sentiment_score or 0.0
        conversation.sentiment_label = label
        if verdict is None:  # a thread the brand started: nothing to triage yet
            conversation.triage(
                queue_id=queue.id, priority=0.0, rule=rule, sentiment=(label, score), at=message.created_at
            )
        else:
            if rule is None and verdict.needs_human_triage and self.router.triage is not None:
                queue, rule = self.router.triage, "low category confidence"
            priority = with_rules(verdict.priority, found, category)
            conversation.triage(
                queue_id=queue.id,
                priority=priority.score,
                rule=rule,
                sentiment=(label, score),
                at=message.created_at,
                category=verdict.category,
                angry=verdict.angry,
                action=verdict.action.value,
                explanation=priority.explanation(),
            )
        self.uow.conversations.add(conversation)
        return conversation


def _message_triage(verdict: Verdict) -> dict[str, object]:
    """What is kept on the message itself (the conversation keeps the priority's full explanation)."""
    return {
        "angry": verdict.angry,
        "category": verdict.category,
        "category_confidence": verdict.category_confidence,
        "noise": verdict.noise,
        "action": verdict.action.value,
        "priority": verdict.priority.score,
    }


def _problem(item: InboundMessage) -> str | None:
    """Semantic checks every channel shares; the entry point has already checked types."""
    if item.channel not in ChannelKind._value2member_map_:
        return f"channel must be one of {', '.join(k.value for k in ChannelKind)}"
    if not item.platform_message_id.strip():
        return "platform_message_id must not be empty"
    if not item.author_id.strip():
        return "author_id must not be empty"
    if not item.text.strip():
        return "text must not be empty"
    if any("\x00" in value for value in (item.text, item.platform_message_id, item.author_id, item.account)):
        return "text and ids must not contain NUL characters"
    if len(item.text) > MAX_TEXT:
        return f"text is longer than {MAX_TEXT} characters"
    if item.direction not in ("inbound", "outbound"):
        return "direction must be inbound or outbound"
    if item.visibility not in ("public", "private"):
        return "visibility must be public or private"
    if item.created_at is not None and item.created_at.tzinfo is None:
        return "created_at must carry a time zone"
    return None
