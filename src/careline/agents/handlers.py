"""Writes of the agents context: agents, presence, log-in tokens, queues and channel accounts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from careline.agents import auth
from careline.agents import commands as cmd
from careline.agents.events import (
    AgentCreated,
    AgentProfileChanged,
    AgentStatusChanged,
    ChannelAccountCreated,
    ChannelSecretsSet,
    QueueCreated,
    QueueRoutingChanged,
    ResponsePolicySet,
)
from careline.agents.model import Agent, AgentStatus, Queue, Role
from careline.channels.model import AccountSecrets, ChannelAccount, ChannelKind
from careline.kernel.clock import Clock
from careline.kernel.errors import Conflict, Forbidden, InvalidInput
from careline.kernel.events import Event
from careline.kernel.ids import new_id
from careline.routing.calendar import BusinessHours
from careline.routing.expressions import ExpressionError, parse
from careline.routing.model import AGENT_ATTRIBUTES, Selection
from careline.triage.policy import parse_rules
from careline.unit_of_work import UnitOfWork

Result = tuple[Any, list[Event]]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
SKILL = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
LANGUAGE = re.compile(r"[a-z]{2,3}")
SECRET_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
MAX_SECRETS, MAX_SECRET_LENGTH = 20, 4096
# A log-in for an unknown email (or an account without a password) is checked against this hash, so that
# it costs the same Argon2 as a real one: the answer's timing must not tell which emails exist.
UNKNOWN_ACCOUNT_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$IoQOrIvnS9uvqJq1r+uHLw$UiMGyjl9tht7p6uzXeHq/+cDAQKvVzQHZmJwMFXxht4"
)


class AdminHandlers:
    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def commands(self) -> dict[type, Callable[[Any], Result]]:
        return {
            cmd.CreateAgent: self.create_agent,
            cmd.SetAgentStatus: self.set_status,
            cmd.IssueToken: self.issue_token,
            cmd.RevokeToken: self.revoke_token,
            cmd.CreateQueue: self.create_queue,
            cmd.CreateChannelAccount: self.create_account,
            cmd.SetResponsePolicy: self.set_policy,
            cmd.SetChannelSecrets: self.set_secrets,
            cmd.SetRoutingProfile: self.set_routing_profile,
            cmd.SetQueueRouting: self.set_queue_routing,
        }

    def create_agent(self, c: cmd.CreateAgent) -> Result:
        email = c.email.strip().lower()
        if not EMAIL.match(email):
            raise InvalidInput(f"{c.email!r} is not an email address")
        if c.role not in Role._value2member_map_:
            raise InvalidInput(f"role must be one of {', '.join(r.value for r in Role)}")
        if not c.name.strip():
            raise InvalidInput("an agent needs a name")
        if c.password is not None and len(c.password) < 8:
            raise InvalidInput("a password needs at least 8 characters")
        if any(n < 0 for _, n in c.capacity):
            raise InvalidInput("capacity cannot be negative")
        now = self._clock()
        agent = Agent(
            id=new_id("agt"),
            name=c.name.strip(),
            email=email,
            role=Role(c.role),
            created_at=now,
            skills=frozenset(s.strip().lower() for s in c.skills if s.strip()),
            capacity=dict(c.capacity),
            password_hash=auth.hash_password(c.password) if c.password else None,
        )
        with self._uow() as uow:
            if uow.agents.by_email(email):
                raise Conflict(f"an agent with email {email} exists already")
            uow.agents.add(agent)
            uow.record(AgentCreated(occurred_at=now, actor="system:admin", agent_id=agent.id, role=c.role))
            return agent, uow.commit()

    def set_status(self, c: cmd.SetAgentStatus) -> Result:
        if c.status not in AgentStatus._value2member_map_:
            raise InvalidInput(f"status must be one of {', '.join(s.value for s in AgentStatus)}")
        now = self._clock()
        with self._uow() as uow:
            agent = uow.agents.get(c.agent_id)
            previous = agent.status
            if agent.role in (Role.INTEGRATION, Role.SOCIAL):
                raise Forbidden(f"a {agent.role.value} account takes no conversations and cannot go online")
            if previous.value == c.status:
                return agent, []
            agent.status = AgentStatus(c.status)
            if agent.status is AgentStatus.ONLINE:
                agent.available_since = now
            uow.agents.save(agent)
            uow.record(
                AgentStatusChanged(
                    occurred_at=now,
                    actor=f"agent:{agent.id}",
                    agent_id=agent.id,
                    status=c.status,
                    previous_status=previous.value,
                )
            )
            return agent, uow.commit()

    def issue_token(self, c: cmd.IssueToken) -> Result:
        with self._uow() as uow:
            agent = uow.agents.by_email(c.email.strip())
            stored = agent.password_hash if agent is not None else None
            matches = auth.verify_password(c.password, stored or UNKNOWN_ACCOUNT_HASH)  # one hash, always
            if agent is None or not stored or not matches:
                raise Forbidden("wrong email or password")
            if auth.needs_rehash(stored):  # an older hash: replaced now that the password is known
                uow.agents.set_password_hash(agent.id, auth.hash_password(c.password))
            token = auth.new_token()
            uow.agents.add_token(auth.token_hash(token), agent.id, self._clock())
            uow.commit()
            return (token, agent), []

    def revoke_token(self, c: cmd.RevokeToken) -> Result:
        """Idempotent: a token revoked twice (two log-outs racing) is simply gone."""
        with self._uow() as uow:
            uow.agents.revoke_token(auth.token_hash(c.token))
            uow.commit()
            return None, []

    def create_queue(self, c: cmd.CreateQueue) -> Result:
        name = c.name.strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
            raise InvalidInput("a queue name is 1-64 letters, digits, '-' or '_'")
        if c.first_response_target_seconds <= 0:
            raise InvalidInput("first_response_target_seconds must be positive")
        queue = Queue(
            id=new_id("que"),
            name=name,
            required_skills=frozenset(s.strip().lower() for s in c.required_skills if s.strip()),
            first_response_target_seconds=c.first_response_target_seconds,
            keywords=tuple(k.strip().lower() for k in c.keywords if k.strip()),
            rank=c.rank,
            is_default=c.is_default,
            is_triage=c.is_triage,
        )
        if queue.is_default and queue.is_triage:
            raise InvalidInput("the default queue cannot be the human triage queue: every unmatched post would wait")
        with self._uow() as uow:
            if uow.queues.by_name(name):
                raise Conflict(f"queue {name} exists already")
            # Triage sends every unmatched message to the default queue: a second one would silently take it all.
            default = next((q.name for q in uow.queues.all() if q.is_default), None)
            if queue.is_default and default is not None:
                raise Conflict(f"queue {default} is the default queue already; there can be only one")
            uow.queues.add(queue)
            uow.record(
                QueueCreated(
                    occurred_at=self._clock(),
                    actor="system:admin",
                    queue_id=queue.id,
                    queue_name=queue.name,
                    first_response_target_seconds=queue.first_response_target_seconds,
                )
            )
            return queue, uow.commit()

    def create_account(self, c: cmd.CreateChannelAccount) -> Result:
        if c.kind not in ChannelKind._value2member_map_:
            raise InvalidInput(f"kind must be one of {', '.join(k.value for k in ChannelKind)}")
        if not c.name.strip():
            raise InvalidInput("a channel account needs a name")
        if c.callback_url is not None and not c.callback_url.startswith(("http://", "https://")):
            raise InvalidInput("callback_url must be an http:// or https:// URL")
        account = ChannelAccount(
            new_id("acc"), ChannelKind(c.kind), c.name.strip(), self._clock(), callback_url=c.callback_url
        )
        with self._uow() as uow:
            if uow.accounts.find(c.kind, account.name):
                raise Conflict(f"channel account {c.kind}/{account.name} exists already")
            uow.accounts.add(account)
            uow.record(
                ChannelAccountCreated(
                    occurred_at=account.created_at,
                    actor="system:admin",
                    account_id=account.id,
                    kind=account.kind.value,
                    account_name=account.name,
                )
            )
            return account, uow.commit()

    def set_policy(self, c: cmd.SetResponsePolicy) -> Result:
        parse_rules(c.rules)  # says which rule is wrong, and how
        with self._uow() as uow:
            account = uow.accounts.get(c.account_id)
            account.config = {**account.config, "policy": [dict(rule) for rule in c.rules]}
            if not c.rules:
                del account.config["policy"]
            uow.accounts.save_config(account)
            actor = f"agent:{c.actor_id}" if c.actor_id else "system:admin"
            uow.record(ResponsePolicySet(occurred_at=self._clock(), actor=actor, account_id=account.id, rules=c.rules))
            return account, uow.commit()

    def set_secrets(self, c: cmd.SetChannelSecrets) -> Result:
        """The storage adapter seals them; it refuses (409) when no CARELINE_SECRET_KEY is set."""
        values = dict(c.secrets)
        if len(values) > MAX_SECRETS:
            raise InvalidInput(f"an account has at most {MAX_SECRETS} secrets, not {len(values)}")
        for name, value in values.items():
            if not SECRET_NAME.fullmatch(name):
                raise InvalidInput(f"secret name {name!r}: 1-64 lowercase letters, digits or '_', a letter first")
            if not value or len(value) > MAX_SECRET_LENGTH or "\x00" in value:
                # The message names the secret, never its value.
                raise InvalidInput(f"secret {name}: 1 to {MAX_SECRET_LENGTH} characters, without NUL")
        with self._uow() as uow:
            account = uow.accounts.get(c.account_id)
            account.secrets = AccountSecrets(values)
            uow.accounts.save_secrets(account)
            actor = f"agent:{c.actor_id}" if c.actor_id else "system:admin"
            uow.record(
                ChannelSecretsSet(
                    occurred_at=self._clock(), actor=actor, account_id=account.id, names=account.secrets.names
                )
            )
            return account, uow.commit()

    def set_routing_profile(self, c: cmd.SetRoutingProfile) -> Result:
        proficiency: dict[str, int] = {}
        for skill, level in c.proficiency:
            name = skill.strip().lower()
            if not SKILL.fullmatch(name):
                raise InvalidInput(f"skill {skill!r}: 1-64 letters, digits, '-' or '_'")
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
                raise InvalidInput(f"skill {name}: proficiency is a whole number from 1 to 10, not {level!r}")
            proficiency[name] = level
        languages = tuple(dict.fromkeys(code.strip().lower() for code in c.languages if code.strip()))
        for code in languages:
            if not LANGUAGE.fullmatch(code):
                raise InvalidInput(f"language {code!r} is not an ISO 639-1 code such as en or es")
        teams = tuple(dict.fromkeys(team.strip().lower() for team in c.teams if team.strip()))
        if not 0 <= c.seniority <= 100:
            raise InvalidInput("seniority is a whole number from 0 to 100")
        if not 1 <= c.units <= 1000:
            raise InvalidInput("units (weighted capacity) is a whole number from 1 to 1000")
        capacity = dict(c.capacity)
        unknown = sorted(set(capacity) - set(ChannelKind._value2member_map_) - {"default"})
        if unknown:
            raise InvalidInput(f"capacity: unknown channel {unknown[0]!r}")
        if any(not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 100 for n in capacity.values()):
            raise InvalidInput("capacity per channel is a whole number from 0 to 100")
        now = self._clock()
        with self._uow() as uow:
            agent = uow.agents.get(c.agent_id)
            if agent.role in (Role.INTEGRATION, Role.SOCIAL):
                raise Forbidden(f"a {agent.role.value} account takes no conversations: it has no routing profile")
            agent.proficiency = proficiency
            agent.skills = frozenset(proficiency)
            agent.languages, agent.teams, agent.seniority = languages, teams, c.seniority
            agent.attributes, agent.capacity, agent.units = dict(c.attributes), capacity, c.units
            uow.agents.save(agent)
            actor = f"agent:{c.actor_id}" if c.actor_id else "system:admin"
            uow.record(AgentProfileChanged(occurred_at=now, actor=actor, agent_id=agent.id))
            return agent, uow.commit()

    def set_queue_routing(self, c: cmd.SetQueueRouting) -> Result:
        target = (c.target or "").strip() or None
        if target is not None:
            try:
                parse(target, AGENT_ATTRIBUTES)
            except ExpressionError as error:
                raise InvalidInput(f"target: {error}") from None
        if c.first_response_target_seconds <= 0:
            raise InvalidInput("first_response_target_seconds must be positive")
        if c.next_response_target_seconds is not None and c.next_response_target_seconds <= 0:
            raise InvalidInput("next_response_target_seconds must be positive")
        hours = dict(c.business_hours)
        BusinessHours.parse(hours or None)  # says what is wrong with it, and where
        if c.selection not in Selection._value2member_map_:
            raise InvalidInput(f"selection must be one of {', '.join(s.value for s in Selection)}")
        with self._uow() as uow:
            queue = uow.queues.get(c.queue_id)
            queue.target = target
            queue.first_response_target_seconds = c.first_response_target_seconds
            queue.next_response_target_seconds = c.next_response_target_seconds
            queue.business_hours = hours
            queue.selection = c.selection
            uow.queues.save(queue)
            actor = f"agent:{c.actor_id}" if c.actor_id else "system:admin"
            uow.record(
                QueueRoutingChanged(
                    occurred_at=self._clock(),
                    actor=actor,
                    queue_id=queue.id,
                    target=queue.target_source(),
                    first_response_target_seconds=queue.first_response_target_seconds,
                )
            )
            return queue, uow.commit()
