"""Triage over HTTP: listening rules and their streams, alerts, and triage of texts (docs/api.md#triage)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from careline.alerts import commands as alert_cmd
from careline.entrypoints.api.deps import AdminAgent, CarelineDep, CurrentAgent, ManagerAgent
from careline.entrypoints.api.schemas import Ref
from careline.entrypoints.api.schemas_triage import (
    AlertPublic,
    AlertSubscriptionCreate,
    AlertSubscriptionPublic,
    CategoryCreate,
    CategoryPublic,
    ListeningRuleCreate,
    ListeningRulePublic,
    ListeningRuleUpdate,
    StreamItemPublic,
    StreamPage,
    TriageRequest,
)
from careline.triage import commands as cmd
from careline.triage import queries
from careline.triage.model import Post

router = APIRouter(tags=["triage"])
Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0)]


@router.post("/triage")
def triage_texts(careline: CarelineDep, _agent: CurrentAgent, body: TriageRequest) -> list[dict[str, Any]]:
    """What triage concludes about each text (sentiment, anger, category, personal data, policy, priority and
    its explanation), without storing anything."""
    with careline.uow(read_only=True) as uow:
        careline.categories.refresh(uow)  # the user's categories as they are now, tags learned included
    posts = [Post(text=text, channel=body.channel, public=body.public) for text in body.texts]
    return [verdict.as_json() for verdict in careline.triage.assess_many(posts, careline.clock())]


@router.get("/listening-rules")
def list_rules(careline: CarelineDep, _agent: CurrentAgent) -> list[ListeningRulePublic]:
    with careline.uow(read_only=True) as uow:
        return [ListeningRulePublic.of(rule) for rule in uow.listening.all()]


@router.post("/listening-rules", status_code=status.HTTP_201_CREATED)
def create_rule(careline: CarelineDep, agent: ManagerAgent, body: ListeningRuleCreate) -> ListeningRulePublic:
    rule = careline.handle(
        cmd.CreateListeningRule(
            name=body.name,
            query=body.query,
            queue=body.queue,
            priority_points=body.priority_points,
            tags=tuple(body.tags),
            alert=body.alert,
            actor_id=agent.id,
        )
    )
    return ListeningRulePublic.of(rule)


@router.get("/listening-rules/{rule_id}")
def stream(
    careline: CarelineDep, _agent: CurrentAgent, rule_id: Ref, limit: Limit = 50, offset: Offset = 0
) -> StreamPage:
    """The rule and its stream: the posts it matched, newest first."""
    with careline.uow(read_only=True) as uow:
        rule = uow.listening.get(rule_id)
    items, total = queries.stream(careline.engine, rule.id, limit, offset)
    return StreamPage(
        rule=ListeningRulePublic.of(rule), items=[StreamItemPublic.model_validate(i) for i in items], total=total
    )


@router.patch("/listening-rules/{rule_id}")
def update_rule(
    careline: CarelineDep, agent: ManagerAgent, rule_id: Ref, body: ListeningRuleUpdate
) -> ListeningRulePublic:
    rule = careline.handle(
        cmd.UpdateListeningRule(
            rule_id=rule_id,
            name=body.name,
            query=body.query,
            queue=body.queue,
            clear_queue=body.clear_queue,
            priority_points=body.priority_points,
            tags=None if body.tags is None else tuple(body.tags),
            alert=body.alert,
            active=body.active,
            actor_id=agent.id,
        )
    )
    return ListeningRulePublic.of(rule)


@router.delete("/listening-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(careline: CarelineDep, agent: ManagerAgent, rule_id: Ref) -> Response:
    careline.handle(cmd.DeleteListeningRule(rule_id=rule_id, actor_id=agent.id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/alerts")
def list_alerts(
    careline: CarelineDep,
    _agent: CurrentAgent,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    min_severity: Annotated[str | None, Query(max_length=16)] = None,
    unacknowledged: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    items, total = queries.list_alerts(
        careline.engine,
        kind=kind,
        min_severity=min_severity,
        unacknowledged=unacknowledged,
        limit=limit,
        offset=offset,
    )
    return {"items": [AlertPublic.model_validate(i).model_dump(mode="json") for i in items], "total": total}


@router.post("/alerts/{alert_id}/acknowledge", status_code=status.HTTP_204_NO_CONTENT)
def acknowledge(careline: CarelineDep, agent: CurrentAgent, alert_id: Ref) -> Response:
    careline.handle(alert_cmd.AcknowledgeAlert(alert_id=alert_id, agent_id=agent.id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/alert-subscriptions")
def list_subscriptions(careline: CarelineDep, _agent: ManagerAgent) -> list[AlertSubscriptionPublic]:
    with careline.uow(read_only=True) as uow:
        return [AlertSubscriptionPublic.of(s) for s in uow.alerts.subscriptions()]


@router.post("/alert-subscriptions", status_code=status.HTTP_201_CREATED)
def subscribe(careline: CarelineDep, _agent: AdminAgent, body: AlertSubscriptionCreate) -> AlertSubscriptionPublic:
    subscription = careline.handle(
        alert_cmd.CreateAlertSubscription(kind=body.kind, target=body.target, min_severity=body.min_severity)
    )
    return AlertSubscriptionPublic.of(subscription)


@router.delete("/alert-subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def unsubscribe(careline: CarelineDep, _agent: AdminAgent, subscription_id: Ref) -> Response:
    careline.handle(alert_cmd.DeleteAlertSubscription(subscription_id=subscription_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/categories")
def list_categories(careline: CarelineDep, _agent: CurrentAgent) -> list[CategoryPublic]:
    """The user's categories, with how many examples each was given and learned from agents' tags."""
    counts = queries.example_counts(careline.engine)
    with careline.uow(read_only=True) as uow:
        return [CategoryPublic.of(c, counts.get(c.id)) for c in uow.categories.all()]


@router.post("/categories", status_code=status.HTTP_201_CREATED)
def create_category(careline: CarelineDep, _agent: ManagerAgent, body: CategoryCreate) -> CategoryPublic:
    category = careline.handle(
        cmd.CreateCategory(
            name=body.name,
            description=body.description,
            keywords=tuple(body.keywords),
            examples=tuple(body.examples),
            queue=body.queue,
            priority_points=body.priority_points,
        )
    )
    return CategoryPublic.of(category, {"example": len([e for e in body.examples if e.strip()])})


@router.delete("/categories/{category_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_category(careline: CarelineDep, _agent: ManagerAgent, category_id: Ref) -> Response:
    careline.handle(cmd.DeleteCategory(category_id=category_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
