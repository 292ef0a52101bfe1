"""Administration: queues, agents and channel accounts and their secrets (docs/api.md#administration)."""

from __future__ import annotations

from fastapi import APIRouter, status

from careline.agents import commands as cmd
from careline.entrypoints.api.deps import AdminAgent, CarelineDep, CurrentAgent, ManagerAgent
from careline.entrypoints.api.schemas import (
    AgentCreate,
    AgentPublic,
    ChannelAccountCreate,
    ChannelAccountPublic,
    ChannelSecretsUpdate,
    PolicyPublic,
    PolicyUpdate,
    QueueCreate,
    QueuePublic,
    Ref,
)

router = APIRouter(tags=["administration"])


@router.get("/queues")
def list_queues(careline: CarelineDep, _agent: CurrentAgent) -> list[QueuePublic]:
    with careline.uow(read_only=True) as uow:
        return [QueuePublic.of(q) for q in uow.queues.all()]


@router.post("/queues", status_code=status.HTTP_201_CREATED)
def create_queue(careline: CarelineDep, _agent: ManagerAgent, body: QueueCreate) -> QueuePublic:
    queue = careline.handle(
        cmd.CreateQueue(
            name=body.name,
            keywords=tuple(body.keywords),
            required_skills=frozenset(body.required_skills),
            first_response_target_seconds=body.first_response_target_seconds,
            rank=body.rank,
            is_default=body.is_default,
            is_triage=body.is_triage,
        )
    )
    return QueuePublic.of(queue)


@router.get("/agents")
def list_agents(careline: CarelineDep, _agent: CurrentAgent) -> list[AgentPublic]:
    with careline.uow(read_only=True) as uow:
        return [AgentPublic.of(a) for a in uow.agents.all()]


@router.post("/agents", status_code=status.HTTP_201_CREATED)
def create_agent(careline: CarelineDep, _agent: AdminAgent, body: AgentCreate) -> AgentPublic:
    agent = careline.handle(
        cmd.CreateAgent(
            name=body.name,
            email=body.email,
            password=body.password,
            role=body.role,
            skills=frozenset(body.skills),
            capacity=tuple(sorted(body.capacity.items())),
        )
    )
    return AgentPublic.of(agent)


@router.get("/channel-accounts")
def list_channel_accounts(careline: CarelineDep, _agent: CurrentAgent) -> list[ChannelAccountPublic]:
    with careline.uow(read_only=True) as uow:
        return [ChannelAccountPublic.of(a) for a in uow.accounts.all()]


@router.post("/channel-accounts", status_code=status.HTTP_201_CREATED)
def create_channel_account(
    careline: CarelineDep, _agent: AdminAgent, body: ChannelAccountCreate
) -> ChannelAccountPublic:
    account = careline.handle(cmd.CreateChannelAccount(kind=body.kind, name=body.name, callback_url=body.callback_url))
    return ChannelAccountPublic.of(account)


@router.get("/channel-accounts/{account_id}/policy")
def get_policy(careline: CarelineDep, _agent: CurrentAgent, account_id: Ref) -> PolicyPublic:
    """The account's response-policy rules, or the defaults when it has none of its own."""
    with careline.uow(read_only=True) as uow:
        account = uow.accounts.get(account_id)
    return PolicyPublic.of(account.config.get("policy"))


@router.put("/channel-accounts/{account_id}/policy")
def set_policy(careline: CarelineDep, agent: ManagerAgent, account_id: Ref, body: PolicyUpdate) -> PolicyPublic:
    """Replace the account's rules (first match wins; an empty list restores the defaults)."""
    account = careline.handle(cmd.SetResponsePolicy(account_id=account_id, rules=tuple(body.rules), actor_id=agent.id))
    return PolicyPublic.of(account.config.get("policy"))


@router.put("/channel-accounts/{account_id}/secrets")
def set_secrets(
    careline: CarelineDep, agent: AdminAgent, account_id: Ref, body: ChannelSecretsUpdate
) -> ChannelAccountPublic:
    """Replace the account's secrets (set or rotate; ``{}`` removes them); the answer shows them masked."""
    account = careline.handle(
        cmd.SetChannelSecrets(account_id=account_id, secrets=tuple(sorted(body.secrets.items())), actor_id=agent.id)
    )
    return ChannelAccountPublic.of(account)
