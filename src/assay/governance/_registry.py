"""The AI product registry: sign-offs, gate transitions, decisions and contingencies.

Products, versions and their fields are in ``_records_store``; here a version moves through
the lifecycle gates. Every write is one transaction with its hash-chained audit event(s).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from assay.checks import Plan
from assay.errors import InputError
from assay.governance._cards import ModelCard, build_model_card
from assay.governance._lifecycle import (
    DECISIONS,
    ROLES,
    STATES,
    Evidence,
    Gate,
    RiskTier,
    State,
    gate,
    transitions_from,
)
from assay.governance._records import (
    Contingency,
    GateDecision,
    GateError,
    OpenContingency,
    SignOff,
)
from assay.governance._records_store import RegistryRecords, as_state
from assay.store import Store
from assay.store._audit import append_event
from assay.store._tables import (
    ContingencyRow,
    GateDecisionRow,
    ProductRow,
    ProductVersionRow,
    RunRow,
    SignOffRow,
    as_utc,
    utc_now,
)

__all__ = ["ModelCardCheck", "Registry", "default_model_card_check"]

ModelCardCheck = Callable[["Registry", str, str, Evidence], Sequence[str]]
"""``(registry, product, version, evidence) -> missing items``; empty when the card is complete."""


def default_model_card_check(registry: Registry, product: str, version: str,
                             evidence: Evidence) -> list[str]:
    """The fields the evidence lists that neither the product nor the version has."""
    present = {**registry.product_fields(product), **registry.version_fields(product, version)}
    return [f"model card field '{name}'" for name in evidence.fields if name not in present]


def card_completeness_check(registry: Registry, product: str, version: str,
                            evidence: Evidence) -> list[str]:
    """Strict: every required field of the version's model card is filled (registry fields,
    and the validity and fairness values that only passing stored Runs can supply)."""
    card = registry.model_card(product, version)
    return [f"model card field '{card.field(field_id).title}'" for field_id in card.missing]


class Registry(RegistryRecords):
    """Governed AI products and versions over a :class:`~assay.store.Store`.

    Examples
    --------
    >>> import tempfile
    >>> from assay.store import Store
    >>> registry = Registry(Store.open(f"sqlite:///{tempfile.mkdtemp()}/assay.db"))
    >>> _ = registry.register_product("sepsis-alert", actor="ana", kind="predictive",
    ...                               clinical_risk_tier="high")
    >>> registry.product_fields("sepsis-alert")["clinical_risk_tier"]
    'high'
    >>> _ = registry.add_version("sepsis-alert", "1.0", actor="ana")
    >>> registry.state("sepsis-alert", "1.0")
    'proposed'
    >>> registry.store.close()
    """

    def __init__(self, store: Store, *, model_card_check: ModelCardCheck | None = None) -> None:
        super().__init__(store)
        self.model_card_check: ModelCardCheck = model_card_check or default_model_card_check

    def model_card(self, product: str, version: str) -> ModelCard:
        """The model card of a version, from the registry's fields and its stored Runs."""
        runs = {str(stored.id): self.store.load_run(stored.id) for stored in
                self.store.list_runs(version_id=self.version_id(product, version))}
        return build_model_card(
            {"name": product, **self.product_fields(product)},
            {"version": version, "lifecycle_state": self.state(product, version),
             **self.version_fields(product, version)},
            runs)

    def set_plan(self, product: str, version: str, plan: Plan, *,
                 actor: str) -> dict[str, tuple[str | None, str | None]]:
        """Register the validation plan of a version (audited, old and new fingerprint).

        Once a plan is registered, the passing Run that gate evidence asks for must be a Run of
        this plan (the same fingerprint): a Run of an edited or other plan does not count.
        """
        return self.set_fields(product, version, actor=actor, validation_plan=plan.to_yaml(),
                               validation_plan_fingerprint=plan.fingerprint)

    def sign(self, product: str, version: str, gate_id: str, *, role: str, actor: str,
             statement: str) -> SignOff:
        """Record ``actor``'s sign-off in ``role`` on a gate leading out of the current state.

        Refused (InputError) for an unknown role or gate, a gate that does not lead out of the
        version's state, a role the gate does not ask for, a repeated sign-off, and where the
        gate asks for independence: one person signs one role, and the validator is not the
        product's ``technical_owner``.
        """
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if not statement.strip():
            raise InputError("a sign-off needs a statement")
        checked = self._gate(gate_id)
        tier, state = self.risk_tier(product), self.state(product, version)
        if gate_id not in {t.gate for t in transitions_from(state, tier)}:
            raise InputError(f"gate {gate_id} does not lead out of state {state!r} for a "
                             f"{tier}-tier product; gates from here: "
                             f"{_gates_from(state, tier)}")
        if role not in checked.roles_for(tier):
            raise InputError(f"gate {gate_id} does not ask for role {role!r} at {tier} tier; "
                             f"it asks for: {', '.join(checked.roles_for(tier))}")
        earlier = self.sign_offs(product, version, gate_id)
        if any(s.role == role and s.actor == actor for s in earlier):
            raise InputError(f"{actor} has already signed gate {gate_id} as {role}")
        independent = checked.independence_for(tier)
        if independent:
            clash = [s.role for s in earlier if s.actor == actor]
            if clash:
                raise InputError(
                    f"{actor} cannot sign gate {gate_id} as {role}: they signed it as "
                    f"{clash[0]}, and this gate asks for independent sign-offs "
                    f"({' independent of '.join(independent)}): one person, one role")
            owner = self.product_fields(product).get("technical_owner")
            if role == "validator" and owner == actor:
                raise InputError(f"{actor} cannot sign gate {gate_id} as validator: they are "
                                 "the product's technical_owner (the developer), and the "
                                 "validator must be independent of the developer")
        with self._transaction() as session:
            parent = self._product_row(session, product)
            row = SignOffRow(version_id=self._version_row(session, parent, version).id,
                             gate=gate_id, role=role, actor=actor, statement=statement.strip(),
                             signed_at=utc_now())
            session.add(row)
            session.flush()
            append_event(session, actor=actor, action="signoff.recorded",
                         entity_type="sign_off", entity_id=str(row.id),
                         payload={"product": product, "version": version, "gate": gate_id,
                                  "role": role, "statement": row.statement})
            return SignOff(row.id, product, version, gate_id, role, actor, row.statement,
                           as_utc(row.signed_at))

    def sign_offs(self, product: str, version: str, gate_id: str | None = None, *,
                  current: bool = True) -> list[SignOff]:
        """Sign-offs of a version (of one gate), oldest first.

        With ``current`` (the default) only those given since the version entered its present
        state: a sign-off counts for the pass through a gate it was given for.
        """
        with self._sessions() as session:
            row = self._version_row(session, self._product_row(session, product), version)
            query = select(SignOffRow).where(SignOffRow.version_id == row.id)
            if gate_id is not None:
                query = query.where(SignOffRow.gate == gate_id)
            if current:
                query = query.where(SignOffRow.signed_at >= self._entered_at(session, row))
            rows = session.execute(query.order_by(SignOffRow.signed_at)).scalars()
            return [SignOff(r.id, product, version, r.gate, r.role, r.actor, r.statement,
                            as_utc(r.signed_at)) for r in rows]

    def missing(self, product: str, version: str, to_state: str) -> tuple[Gate, list[str]]:
        """The gate between the version's state and ``to_state``, and what it still lacks."""
        checked, _ = self._route(product, version, to_state)
        tier = self.risk_tier(product)
        lacking: list[str] = []
        for item in checked.evidence_for(tier):
            lacking.extend(self._lacking(product, version, item))
        signed = self.sign_offs(product, version, checked.id)
        for role in checked.roles_for(tier):
            if not any(s.role == role for s in signed):
                lacking.append(f"sign-off by role '{role}'")
        owner = self.product_fields(product).get("technical_owner")
        if "validator" in checked.independence_for(tier) and any(
                s.role == "validator" and s.actor == owner for s in signed):
            lacking.append("an independent validator (the validator who signed is the "
                           "technical_owner)")
        return checked, lacking

    def transition(self, product: str, version: str, to_state: str, *, actor: str,
                   contingencies: Sequence[Contingency] = ()) -> GateDecision:
        """Move a version through the gate to ``to_state`` (decision ``approve``, or
        ``approve_with_contingencies`` when contingencies are given).

        Raises
        ------
        GateError
            When evidence or sign-offs are missing; ``.missing`` lists each item.
        InputError
            When no gate leads from the version's state to ``to_state`` for its risk tier.
        """
        checked, lacking = self.missing(product, version, to_state)
        if lacking:
            raise GateError(
                f"{product} {version}: {self.state(product, version)} → {to_state} refused at "
                f"gate {checked.id} ({checked.title}); missing: {'; '.join(lacking)}", lacking)
        decision = "approve_with_contingencies" if contingencies else "approve"
        return self._record(product, version, checked.id, decision, as_state(to_state),
                            actor=actor, contingencies=contingencies)

    def decide(self, product: str, version: str, gate_id: str, decision: str, *, actor: str,
               contingencies: Sequence[Contingency] = (), note: str | None = None
               ) -> GateDecision:
        """Record a gate decision: approve (as :meth:`transition`), re_review (state kept) or
        decline (the version moves to ``declined``)."""
        if decision not in DECISIONS:
            raise InputError(f"unknown decision {decision!r}; decisions: {', '.join(DECISIONS)}")
        state, tier = self.state(product, version), self.risk_tier(product)
        moves = [t for t in transitions_from(state, tier) if t.gate == gate_id]
        if not moves:
            raise InputError(f"gate {gate_id} does not lead out of state {state!r}; gates "
                             f"from here: {_gates_from(state, tier)}")
        if decision == "approve_with_contingencies" and not contingencies:
            raise InputError("approve_with_contingencies needs at least one contingency")
        if decision in ("approve", "approve_with_contingencies"):
            return self.transition(product, version, moves[0].to_state, actor=actor,
                                   contingencies=contingencies)
        to_state: State = state if decision == "re_review" else "declined"
        return self._record(product, version, gate_id, decision, to_state, actor=actor,
                            note=note)

    def decisions(self, product: str, version: str) -> list[GateDecision]:
        """The gate decisions of a version, oldest first."""
        with self._sessions() as session:
            row = self._version_row(session, self._product_row(session, product), version)
            rows = session.execute(select(GateDecisionRow)
                                   .where(GateDecisionRow.version_id == row.id)
                                   .order_by(GateDecisionRow.decided_at)).scalars().all()
            return [GateDecision(r.id, product, version, r.gate, r.decision, r.from_state,
                                 r.to_state, r.actor, as_utc(r.decided_at)) for r in rows]

    def open_contingencies(self, product: str | None = None, *,
                           today: date | None = None) -> list[OpenContingency]:
        """Unresolved contingencies (of one product), soonest due first, overdue flagged."""
        today = today or datetime.now(UTC).date()
        query = (select(ContingencyRow, GateDecisionRow.gate, ProductVersionRow.version,
                        ProductRow.name)
                 .join(GateDecisionRow, ContingencyRow.decision_id == GateDecisionRow.id)
                 .join(ProductVersionRow, ContingencyRow.version_id == ProductVersionRow.id)
                 .join(ProductRow, ProductVersionRow.product_id == ProductRow.id)
                 .where(ContingencyRow.resolved_at.is_(None)).order_by(ContingencyRow.due))
        if product is not None:
            query = query.where(ProductRow.name == product)
        with self._sessions() as session:
            return [OpenContingency(c.id, name, version, gate_id, c.description, c.owner,
                                    c.due, c.due < today)
                    for c, gate_id, version, name in session.execute(query).all()]

    def review_overdue(self, *, actor: str, today: date | None = None) -> list[GateDecision]:
        """Move each deployed version with an overdue contingency to ``under_review``.

        The reference's rule (an overdue contingency triggers a review): recorded as a
        ``re_review`` decision at gate ``review`` naming the overdue items, without sign-offs,
        as an automatic trigger. Versions in other states are left where they are (their
        overdue items stay listed by :meth:`open_contingencies`).
        """
        overdue: dict[tuple[str, str], list[str]] = {}
        for item in self.open_contingencies(today=today):
            if item.overdue:
                overdue.setdefault((item.product, item.version), []).append(
                    f"{item.description} (due {item.due})")
        moved = []
        for (product, version), items in overdue.items():
            if self.state(product, version) == "deployed":
                moved.append(self._record(product, version, "review", "re_review",
                                          "under_review", actor=actor,
                                          note="overdue contingencies: " + "; ".join(items)))
        return moved

    def resolve_contingency(self, contingency_id: uuid.UUID, *, actor: str) -> None:
        """Mark a contingency resolved (audited); an unknown or resolved one is refused."""
        with self._transaction() as session:
            row = session.get(ContingencyRow, contingency_id)
            if row is None or row.resolved_at is not None:
                raise InputError(f"contingency {contingency_id} is not open")
            row.resolved_at, row.resolved_by = utc_now(), actor
            append_event(session, actor=actor, action="contingency.resolved",
                         entity_type="contingency", entity_id=str(row.id),
                         payload={"description": row.description})

    def _record(self, product: str, version: str, gate_id: str, decision: str,
                to_state: State, *, actor: str, contingencies: Sequence[Contingency] = (),
                note: str | None = None) -> GateDecision:
        for item in contingencies:
            if not item.description.strip() or not item.owner.strip():
                raise InputError("a contingency needs a description and an owner")
        with self._transaction() as session:
            parent = self._product_row(session, product)
            row = self._version_row(session, parent, version)
            from_state = row.state
            decided = GateDecisionRow(version_id=row.id, gate=gate_id, decision=decision,
                                      from_state=from_state, to_state=to_state, actor=actor,
                                      note=note, decided_at=utc_now())
            session.add(decided)
            session.flush()
            session.add_all(ContingencyRow(decision_id=decided.id, version_id=row.id,
                                           description=c.description, owner=c.owner, due=c.due)
                            for c in contingencies)
            append_event(session, actor=actor, action="gate.decided",
                         entity_type="product_version", entity_id=str(row.id),
                         payload={"product": product, "version": version, "gate": gate_id,
                                  "decision": decision, "note": note,
                                  "contingencies": [{"description": c.description,
                                                     "owner": c.owner,
                                                     "due": c.due.isoformat()}
                                                    for c in contingencies]})
            if to_state != from_state:
                row.state = to_state
                append_event(session, actor=actor, action="version.state_changed",
                             entity_type="product_version", entity_id=str(row.id),
                             payload={"product": product, "version": version, "gate": gate_id,
                                      "old": from_state, "new": to_state})
            return GateDecision(decided.id, product, version, gate_id, decision, from_state,
                                to_state, actor, as_utc(decided.decided_at),
                                tuple(contingencies))

    def _route(self, product: str, version: str, to_state: str) -> tuple[Gate, State]:
        if to_state not in STATES:
            raise InputError(f"unknown state {to_state!r}; states: {', '.join(STATES)}")
        state, tier = self.state(product, version), self.risk_tier(product)
        for move in transitions_from(state, tier):
            if move.to_state == to_state:
                return gate(move.gate), state
        targets = ", ".join(sorted({t.to_state for t in transitions_from(state, tier)}))
        raise InputError(f"{product} {version} cannot move from {state!r} to {to_state!r} "
                         f"at {tier} tier; allowed: {targets or 'none'}")

    def _lacking(self, product: str, version: str, item: Evidence) -> list[str]:
        if item.kind == "product_field":
            return [] if item.name in self.product_fields(product) else [item.describe()]
        if item.kind == "version_field":
            present = self.version_fields(product, version)
            return [] if item.name in present else [item.describe()]
        if item.kind == "model_card_complete":
            gaps = list(self.model_card_check(self, product, version, item))
            return [f"{item.describe()} ({'; '.join(gaps)})"] if gaps else []
        registered = self.version_fields(product, version).get("validation_plan_fingerprint")
        with self._sessions() as session:
            row = self._version_row(session, self._product_row(session, product), version)
            query = select(RunRow.id).where(RunRow.version_id == row.id,
                                            RunRow.status.not_in(("fail", "error")))
            if registered:
                query = query.where(RunRow.plan_fingerprint == registered)
            passing = session.execute(query.limit(1)).first()
        if passing is not None:
            return []
        of_plan = f" of the registered plan {registered[:19]}…" if registered else ""
        return [item.describe() + of_plan]

    def _gate(self, gate_id: str) -> Gate:
        try:
            return gate(gate_id)
        except KeyError as exc:
            raise InputError(exc.args[0]) from exc

    @staticmethod
    def _entered_at(session: Session, row: ProductVersionRow) -> datetime:
        last = session.execute(select(GateDecisionRow.decided_at)
                               .where(GateDecisionRow.version_id == row.id,
                                      GateDecisionRow.to_state != GateDecisionRow.from_state)
                               .order_by(GateDecisionRow.decided_at.desc()).limit(1)).scalar()
        return row.created_at if last is None else last


def _gates_from(state: str, tier: RiskTier) -> str:
    return ", ".join(sorted({t.gate for t in transitions_from(state, tier)})) or "none"
