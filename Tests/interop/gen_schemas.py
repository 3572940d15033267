#!/usr/bin/env python3
"""Generates Shared/ITREvents/Schemas/<type>.json (JSON Schema 2020-12) and
Shared/ITREvents/asyncapi.yaml from one description of the event data.

Keep this file in step with Shared/ITREvents/Payloads/*.swift; the ITREventsTests
schema test encodes a sample of every type in Swift and validates it against these files.
Run: python3 Tests/interop/gen_schemas.py
"""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Shared", "ITREvents")
BASE = "https://itr.example.com/schemas/v1/"

# --- building blocks -------------------------------------------------------------------
def s(max_len=256, **kw):
    d = {"type": "string", "minLength": 1, "maxLength": max_len}
    d.update(kw)
    return d

def enum(*values):
    return {"type": "string", "enum": list(values)}

def integer(minimum=None, maximum=None):
    d = {"type": "integer"}
    if minimum is not None: d["minimum"] = minimum
    if maximum is not None: d["maximum"] = maximum
    return d

def number(minimum=None, maximum=None):
    d = {"type": "number"}
    if minimum is not None: d["minimum"] = minimum
    if maximum is not None: d["maximum"] = maximum
    return d

BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time",
        "pattern": "^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$"}
SUMMARY = s(512)
TEXT = s(32768)
URI_REF = s(2048)

def arr(items, max_items=1000, min_items=0):
    d = {"type": "array", "items": items, "maxItems": max_items}
    if min_items: d["minItems"] = min_items
    return d

def obj(required, props):
    """An object; unknown fields are allowed (readers ignore them: additive changes in v1)."""
    return {"type": "object", "required": list(required), "properties": props}

def ref(name):
    return {"$ref": "#/$defs/" + name}

CHANNEL = enum("phone", "portal", "email", "monitoring", "field", "api")
SEVERITY = enum("critical", "major", "minor", "warning", "info")
SERVICE_TYPE = enum("hardware-fault", "preventive-maintenance", "software-fault", "software-operation",
                    "non-technical", "new-requirement", "complaint")
PRIORITY = enum("P1", "P2", "P3", "P4", "P5")
TIER = enum("L1", "L2", "L3")
ACTION = enum("acknowledge", "note", "pause", "resume", "resolve", "confirm", "reopen", "escalate", "cancel", "merge",
              "reclassify", "reprioritise")
IMPACT = enum("extensive", "significant", "moderate", "minor")
URGENCY = enum("critical", "high", "medium", "low")
PAUSE = enum("waiting-customer", "waiting-spare-part", "waiting-supplier", "other")
QUALITY = enum("product-hardware", "product-software", "product-documentation", "installation", "customer",
               "supplier", "no-fault-found")
OPP_STATE = enum("open", "accepted", "rejected", "won", "lost")

DEFS = {
    "actor": obj(["id"], {"id": s(), "name": s(), "role": s()}),
    "contact": obj([], {"name": s(), "phone": s(64), "email": s()}),
    "customer": obj(["account"], {"account": s(), "name": s(), "contact": ref("contact")}),
    "product": obj(["line"], {"line": s(), "model": s(), "version": s(), "serial": s(), "site": s(),
                              "component": s()}),
    "severity": obj([], {"reported": SEVERITY, "alarm": SEVERITY}),
    "alarm": obj(["code", "state"], {"code": s(), "device": s(), "state": enum("raised", "cleared")}),
    "attachment": obj(["uri"], {"uri": URI_REF, "name": s(), "mediaType": s(), "size": integer(0)}),
    "knownErrorMatch": obj(["problemId", "title", "workaround"],
                           {"problemId": s(), "title": SUMMARY, "workaround": TEXT}),
    "sparePart": obj(["partNumber", "quantity"],
                     {"partNumber": s(), "quantity": integer(1, 100000), "inWarranty": BOOL}),
    "money": obj(["amount", "currency"], {
        "amount": {"type": "string", "pattern": "^-?\\d{1,18}(\\.\\d{1,6})?$",
                   "description": "Decimal amount as a string, never a float (no cent lost)."},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217"}}),
    "priceLine": obj(["offering", "quantity", "unitPrice"], {
        "offering": s(), "description": SUMMARY, "quantity": integer(1, 1000000), "unitPrice": ref("money")}),
    "defectImpact": obj(["customers", "incidents", "highestPriority", "slaBreaches", "packages", "firstSeen",
                         "lastSeen", "score"], {
        "customers": integer(0), "incidents": integer(0), "highestPriority": PRIORITY, "slaBreaches": integer(0),
        "packages": arr(s()), "firstSeen": TIME, "lastSeen": TIME, "score": number(0)}),
    "validationProblem": obj(["path", "code", "message"], {
        "path": {"type": "string"}, "code": s(), "message": {"type": "string"}}),
}

REPORT_FIELDS = {
    "customer": ref("customer"), "product": ref("product"), "summary": SUMMARY, "description": TEXT,
    "severity": ref("severity"), "alarm": ref("alarm"), "occurredAt": TIME,
    "language": enum("zh", "en"), "categoryHint": s(), "attachments": arr(ref("attachment"), 20),
}

SLA = (["ticketId", "clock", "priority", "targetMinutes", "dueAt", "share"], {
    "ticketId": s(), "clock": enum("response", "resolution"), "priority": PRIORITY, "targetMinutes": integer(1),
    "dueAt": TIME, "share": number(0), "contractPackage": s(), "serviceType": SERVICE_TYPE, "account": s()})

OPPORTUNITY = (["opportunityId", "account", "kind", "confidence", "status"], {
    "opportunityId": s(), "account": s(),
    "kind": enum("renewal", "parts-quote", "expansion", "upgrade", "package-upgrade", "new-requirement"),
    "product": ref("product"), "quantity": integer(1), "estimatedValue": ref("money"),
    "priceLines": arr(ref("priceLine")), "confidence": number(0, 1), "reasons": arr(SUMMARY),
    "ticketIds": arr(s()), "signals": arr(s()), "suggestedOwner": s(), "status": OPP_STATE})

DEFECT = (["defectId", "fingerprint", "productLine", "symptomSignature", "impact", "status"], {
    "defectId": s(), "fingerprint": s(), "productLine": s(), "model": s(), "affectedVersions": arr(s()),
    "component": s(), "code": s(), "symptomSignature": SUMMARY, "impact": ref("defectImpact"),
    "problemIds": arr(s()), "ticketIds": arr(s()),
    "status": enum("reported", "accepted", "rejected", "duplicate", "fix-released"), "fixVersion": s(),
    "duplicateOf": s(), "regressedFixVersion": s()})

# type -> (direction, title, description, required, properties, extra)
TYPES = {
    "itr.report.submitted": ("in", "ReportSubmitted", "An upstream system reports an issue.",
        ["sourceSystem", "channel", "upstreamId", "customer", "product", "summary", "occurredAt", "language"],
        dict({"sourceSystem": s(), "channel": CHANNEL, "upstreamId": s()}, **REPORT_FIELDS),
        {"if": {"properties": {"channel": {"const": "monitoring"}}, "required": ["channel"]},
         "then": {"required": ["alarm"]}}),
    "itr.ticket.action": ("in", "TicketAction", "A service-desk tool acts on a ticket. Over AMQP it is applied only with the AMQP user_id property of a broker user that access.yaml maps to a desk identity (RabbitMQ checks user_id against the connection's user); over HTTP only with a bearer token with tickets:act (or customer:confirm for confirm/reopen on its accounts). Either way the actor recorded is that identity, not data.actor's id.",
        ["ticketId", "action", "actor"],
        {"ticketId": s(), "action": ACTION, "actor": ref("actor"), "note": TEXT, "pauseReason": PAUSE,
         "resolution": obj(["resolutionCode"], {"resolutionCode": s(), "rootCause": TEXT, "workaround": TEXT,
                                                "spareParts": arr(ref("sparePart")),
                                                "qualityResponsibility": QUALITY}),
         "escalation": obj(["reason"], {"kind": enum("functional", "hierarchical"), "toTier": TIER,
                                        "reason": SUMMARY}),
         "mergeInto": s(), "reason": TEXT, "serviceType": SERVICE_TYPE, "impact": IMPACT, "urgency": URGENCY},
        {"allOf": [
            {"if": {"properties": {"action": {"const": a}}}, "then": {"required": fs}}
            for a, fs in [("note", ["note"]), ("pause", ["pauseReason"]), ("resolve", ["resolution"]),
                          ("escalate", ["escalation"]), ("merge", ["mergeInto"]),
                          ("reclassify", ["serviceType", "reason"])]] + [
            {"if": {"properties": {"action": {"const": "reprioritise"}}},
             "then": {"required": ["reason"], "anyOf": [{"required": ["impact"]}, {"required": ["urgency"]}]}}]}),
    "itr.defect.status": ("in", "DefectStatus", "R&D's decision on a defect.",
        ["defectId", "status"],
        {"defectId": s(), "status": enum("accepted", "rejected", "duplicate", "fix-released"),
         "duplicateOf": s(), "fixVersion": s(), "note": TEXT, "actor": ref("actor")},
        {"allOf": [
            {"if": {"properties": {"status": {"const": "duplicate"}}}, "then": {"required": ["duplicateOf"]}},
            {"if": {"properties": {"status": {"const": "fix-released"}}}, "then": {"required": ["fixVersion"]}}]}),
    "itr.opportunity.status": ("in", "OpportunityStatus", "Sales reports back on an opportunity.",
        ["opportunityId", "status"],
        {"opportunityId": s(), "status": enum("accepted", "rejected", "won", "lost"), "note": TEXT,
         "actor": ref("actor"), "value": ref("money")}, {}),
    "itr.ticket.opened": ("out", "TicketOpened", "Intake opened a ticket from a report.",
        ["ticketId", "reportId", "reportSource", "sourceSystem", "upstreamId", "channel", "account", "accountKnown",
         "customer", "product", "summary", "occurredAt", "openedAt", "language"],
        dict({"ticketId": s(), "reportId": URI_REF, "reportSource": URI_REF, "sourceSystem": s(),
              "upstreamId": s(), "channel": CHANNEL, "account": s(), "accountKnown": BOOL, "openedAt": TIME,
              "knownError": ref("knownErrorMatch")}, **REPORT_FIELDS), {}),
    "itr.ticket.classified": ("out", "TicketClassified", "Service type, impact x urgency -> priority.",
        ["ticketId", "serviceType", "impact", "urgency", "priority", "ruleId", "rulesVersion"],
        {"ticketId": s(), "serviceType": SERVICE_TYPE,
         "impact": IMPACT, "urgency": URGENCY, "priority": PRIORITY, "contractPackage": s(),
         "account": s(), "ruleId": s(), "rulesVersion": s(),
         "decidedBy": enum("rule", "model", "desk"),
         "model": obj(["version", "confidence"], {"version": s(), "confidence": number(0, 1),
                                                  "runnerUp": SERVICE_TYPE, "runnerUpConfidence": number(0, 1)}),
         "needsTriage": BOOL, "previousServiceType": SERVICE_TYPE, "reason": TEXT, "actor": ref("actor")},
        {"allOf": [
            {"if": {"properties": {"decidedBy": {"const": "model"}}, "required": ["decidedBy"]},
             "then": {"required": ["model"]}},
            {"if": {"properties": {"decidedBy": {"const": "desk"}}, "required": ["decidedBy"]},
             "then": {"required": ["previousServiceType"]}}]}),
    "itr.ticket.assigned": ("out", "TicketAssigned", "The ticket went to a group at a tier.",
        ["ticketId", "group", "tier"],
        {"ticketId": s(), "group": s(), "tier": TIER, "assignee": s(), "priority": PRIORITY, "olaDueAt": TIME,
         "olaBudgetMinutes": integer(1), "reason": SUMMARY}, {}),
    "itr.ticket.escalated": ("out", "TicketEscalated", "Functional or hierarchical escalation.",
        ["ticketId", "kind", "step", "reason"],
        {"ticketId": s(), "kind": enum("functional", "hierarchical"), "fromTier": TIER, "toTier": TIER,
         "step": integer(1), "group": s(), "notifyRoles": arr(s()), "reason": SUMMARY, "slaShare": number(0, 100)},
        {}),
    "itr.ticket.resolved": ("out", "TicketResolved", "Fixed, with what was done and who caused it.",
        ["ticketId", "resolutionCode", "qualityResponsibility", "product", "priority", "serviceType", "account",
         "resolvedAt"],
        {"ticketId": s(), "resolutionCode": s(), "rootCause": TEXT, "workaround": TEXT,
         "spareParts": arr(ref("sparePart")), "qualityResponsibility": QUALITY, "product": ref("product"),
         "priority": PRIORITY, "serviceType": SERVICE_TYPE, "account": s(), "contractPackage": s(),
         "problemId": s(), "resolvedBy": ref("actor"), "resolvedAt": TIME}, {}),
    "itr.ticket.closed": ("out", "TicketClosed", "Closed: confirmed, timed out, cancelled or merged.",
        ["ticketId", "reason", "closedAt"],
        {"ticketId": s(), "reason": enum("confirmed", "timeout", "cancelled", "merged"), "closedAt": TIME,
         "mergedInto": s(), "note": TEXT}, {}),
    "itr.ticket.reopened": ("out", "TicketReopened", "A resolved ticket was reopened.",
        ["ticketId", "reason", "reopenCount", "reopenedAt"],
        {"ticketId": s(), "reason": TEXT, "reopenCount": integer(1), "actor": ref("actor"), "reopenedAt": TIME},
        {}),
    "itr.sla.warning": ("out", "SLAWarning", "An SLA clock passed its warning share.", SLA[0], SLA[1], {}),
    "itr.sla.breached": ("out", "SLABreached", "An SLA clock passed its target.", SLA[0], SLA[1], {}),
    "itr.ola.breached": ("out", "OLABreached", "A tier missed its OLA budget.",
        ["ticketId", "tier", "group", "budgetMinutes", "dueAt", "breachedAt"],
        {"ticketId": s(), "tier": TIER, "group": s(), "budgetMinutes": integer(1), "dueAt": TIME,
         "breachedAt": TIME}, {}),
    "itr.problem.opened": ("out", "ProblemOpened", "Recurring or major incidents became a problem.",
        ["problemId", "title", "fingerprint", "productLine", "trigger", "ticketIds"],
        {"problemId": s(), "title": SUMMARY, "fingerprint": s(), "productLine": s(), "model": s(),
         "component": s(), "code": s(), "symptom": SUMMARY, "trigger": enum("recurring", "major", "manual"),
         "ticketIds": arr(s(), min_items=1)}, {}),
    "itr.problem.known-error": ("out", "ProblemKnownError", "Root cause and workaround documented.",
        ["problemId", "title", "fingerprint", "rootCause", "workaround"],
        {"problemId": s(), "title": SUMMARY, "fingerprint": s(), "rootCause": TEXT, "workaround": TEXT,
         "ticketIds": arr(s())}, {}),
    "itr.problem.resolved": ("out", "ProblemResolved", "The problem's cause is removed.",
        ["problemId", "fingerprint"],
        {"problemId": s(), "fingerprint": s(), "rootCause": TEXT, "fixVersion": s(), "defectId": s(),
         "ticketIds": arr(s())}, {}),
    "itr.opportunity.identified": ("out", "OpportunityIdentified", "A sales opportunity found in tickets.",
        OPPORTUNITY[0], OPPORTUNITY[1], {}),
    "itr.opportunity.updated": ("out", "OpportunityUpdated", "An opportunity changed (new tickets, status).",
        OPPORTUNITY[0], OPPORTUNITY[1], {}),
    "itr.defect.reported": ("out", "DefectReported", "A new de-duplicated product defect.",
        DEFECT[0], DEFECT[1], {}),
    "itr.defect.updated": ("out", "DefectUpdated", "A defect's impact or status changed.",
        DEFECT[0], DEFECT[1], {}),
    "itr.defect.fixed": ("out", "DefectFixed", "R&D released a fix.",
        DEFECT[0] + ["fixVersion"], DEFECT[1], {}),
    "itr.report.rejected": ("out", "ReportRejected", "Input that could not be accepted, and why.",
        ["reasonCode", "message"],
        {"reasonCode": s(), "message": TEXT, "problems": arr(ref("validationProblem")), "originalId": URI_REF,
         "originalSource": URI_REF, "originalType": s(), "channel": CHANNEL, "upstreamId": s()}, {}),
    "itr.ticket.correlated": ("internal", "TicketCorrelated", "A repeated alarm folded into an open ticket.",
        ["ticketId", "reportId", "upstreamId", "alarmCode", "count", "firstSeenAt", "lastSeenAt", "cleared"],
        {"ticketId": s(), "reportId": URI_REF, "upstreamId": s(), "alarmCode": s(), "device": s(),
         "count": integer(1), "firstSeenAt": TIME, "lastSeenAt": TIME, "cleared": BOOL}, {}),
    "itr.ticket.action-rejected": ("internal", "TicketActionRejected", "The router refused an action.",
        ["ticketId", "action", "reasonCode", "message"],
        {"ticketId": s(), "action": s(), "reasonCode": s(), "message": TEXT, "actionId": URI_REF}, {}),
    "itr.ticket.updated": ("internal", "TicketUpdated", "An action changed the ticket (note, pause, ...).",
        ["ticketId", "action", "state", "at"],
        {"ticketId": s(), "action": ACTION, "state": s(), "note": TEXT, "pauseReason": PAUSE,
         "actor": ref("actor"), "at": TIME}, {}),
}


def used_defs(node, found):
    if isinstance(node, dict):
        r = node.get("$ref")
        if r and r.startswith("#/$defs/"):
            name = r[len("#/$defs/"):]
            if name not in found:
                found.add(name)
                used_defs(DEFS[name], found)
        for v in node.values():
            used_defs(v, found)
    elif isinstance(node, list):
        for v in node:
            used_defs(v, found)


def schema_for(event_type):
    direction, title, description, required, props, extra = TYPES[event_type]
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BASE + event_type + ".json",
        "title": title,
        "description": f"Data of the CloudEvent type '{event_type}' ({direction}). {description} "
                       "Unknown fields are ignored by readers (additive changes stay in v1).",
        "type": "object",
        "required": required,
        "properties": props,
    }
    schema.update(extra)
    found = set()
    used_defs(schema, found)
    if found:
        schema["$defs"] = {k: DEFS[k] for k in sorted(found)}
    return schema


def asyncapi():
    lines = []
    w = lines.append
    w("# Generated by Tests/interop/gen_schemas.py - edit that file, not this one.")
    w("asyncapi: 3.0.0")
    w("info:")
    w("  title: ITR events")
    w("  version: 1.0.0")
    w("  description: |")
    w("    Issue to Resolution over RabbitMQ. Every message on itr.ingress and itr.events is a")
    w("    CloudEvents 1.0 event. Written in binary mode (attributes in ce- headers, data in the")
    w("    body, datacontenttype in content_type, message_id = id, type = type, timestamp,")
    w("    delivery_mode 2); structured mode (application/cloudevents+json) is accepted on read,")
    w("    as are the header prefixes cloudEvents_ and cloudEvents:. Extensions: causationid,")
    w("    correlationid (the ticket id), traceparent, tracestate.")
    w("")
    w("    Limits on read (CloudEventLimits in the schema module; sizes in bytes of UTF-8):")
    w("    id, source, type, subject 255 (they travel in AMQP short strings such as message_id);")
    w("    datacontenttype 255; dataschema 2048; time 64; traceparent 256; tracestate 2048; any")
    w("    other extension 2048 (attribute-too-long). Extension names are 1-64 characters of a-z")
    w("    and 0-9 (invalid-extension-name), at most 64 extensions (too-many-extensions). An")
    w("    attribute under two prefixes (ce-id and cloudEvents_id), as both content_type and")
    w("    ce-datacontenttype, or as a header beside a structured event, must have one value")
    w("    (conflicting-attribute). JSON (structured")
    w("    events and data) is read strictly per RFC 8259 as UTF-8: no member named twice")
    w("    (duplicate-key), at most 64 arrays/objects nested (too-deep), else malformed-json.")
    w("    Refused input goes to itr.rejected (or the service's .dlq) with the reason code in")
    w("    x-itr-reason-code.")
    w("defaultContentType: application/json")
    w("servers:")
    w("  rabbitmq:")
    w("    host: 127.0.0.1:5672")
    w("    protocol: amqp")
    w("    protocolVersion: 0.9.1")
    w("channels:")

    inbound = [t for t, v in TYPES.items() if v[0] == "in"]
    outbound = [t for t, v in TYPES.items() if v[0] != "in"]
    ingress_keys = {
        "itr.report.submitted": "report.{channel}", "itr.ticket.action": "ticket.{action}",
        "itr.defect.status": "defect.{status}", "itr.opportunity.status": "opportunity.{status}"}

    def msg_id(t):
        return TYPES[t][1]

    def exchange_channel(cid, address, exchange, types, description, params=None):
        w(f"  {cid}:")
        w(f"    address: '{address}'")
        w(f"    description: {json.dumps(description, ensure_ascii=False)}")
        if params:
            w("    parameters:")
            for name, desc in params.items():
                w(f"      {name}:")
                w(f"        description: {json.dumps(desc)}")
        w("    messages:")
        for t in types:
            w(f"      {msg_id(t)}:")
            w(f"        $ref: '#/components/messages/{msg_id(t)}'")
        w("    bindings:")
        w("      amqp:")
        w("        is: routingKey")
        w("        exchange:")
        w(f"          name: {exchange}")
        w("          type: topic")
        w("          durable: true")
        w("          autoDelete: false")
        w("          vhost: /")
        w("        bindingVersion: 0.3.0")

    for t in inbound:
        key = ingress_keys[t]
        param = key.split("{")[1].rstrip("}")
        exchange_channel(
            "ingress_" + msg_id(t), key, "itr.ingress", [t],
            f"{t} from the outside world on the itr.ingress topic exchange, routing key {key}.",
            {param: "see the enumeration in the schema"})
    exchange_channel("events", "{eventType}", "itr.events", outbound,
                     "Every domain event the services emit; routing key = the CloudEvent type.",
                     {"eventType": "the CloudEvents type"})

    def queue_channel(cid, address, types, description):
        w(f"  {cid}:")
        w(f"    address: {address}")
        w(f"    description: {json.dumps(description)}")
        w("    messages:")
        for t in types:
            w(f"      {msg_id(t)}:")
            w(f"        $ref: '#/components/messages/{msg_id(t)}'")
        w("    bindings:")
        w("      amqp:")
        w("        is: queue")
        w("        queue:")
        w(f"          name: {address}")
        w("          durable: true")
        w("          exclusive: false")
        w("          autoDelete: false")
        w("          vhost: /")
        w("        bindingVersion: 0.3.0")

    queue_channel("feedDefects", "feed.defects", [t for t in TYPES if t.startswith("itr.defect.") and t != "itr.defect.status"],
                  "Quorum queue bound to itr.events with itr.defect.#: the defect feed for product teams.")
    queue_channel("feedOpportunities", "feed.opportunities",
                  [t for t in TYPES if t.startswith("itr.opportunity.") and t != "itr.opportunity.status"],
                  "Quorum queue bound to itr.events with itr.opportunity.#: the opportunity feed for sales.")
    queue_channel("rejected", "itr.rejected", ["itr.report.rejected"],
                  "Input that could not be accepted: the original body unchanged, with headers saying why "
                  "(x-itr-reason-code, x-itr-reason, x-itr-service, x-itr-original-exchange, "
                  "x-itr-original-routing-key; x-itr-truncated-properties names what AMQP could not carry "
                  "and was cut); itr.report.rejected on itr.events describes each rejection. At most "
                  "100,000 messages (x-overflow reject-publish: a publisher past it parks the copy).")

    w("operations:")
    for t in inbound:
        w(f"  receive{msg_id(t)}:")
        w("    action: receive")
        w("    channel:")
        w(f"      $ref: '#/channels/ingress_{msg_id(t)}'")
        w(f"    summary: Services consume {t} from itr.ingress.")
    w("  sendEvents:")
    w("    action: send")
    w("    channel:")
    w("      $ref: '#/channels/events'")
    w("    summary: Services publish every domain event to itr.events.")
    w("  receiveDefectFeed:")
    w("    action: receive")
    w("    channel:")
    w("      $ref: '#/channels/feedDefects'")
    w("    summary: Product teams consume the defect feed.")
    w("  receiveOpportunityFeed:")
    w("    action: receive")
    w("    channel:")
    w("      $ref: '#/channels/feedOpportunities'")
    w("    summary: Sales consumes the opportunity feed.")
    w("  receiveRejected:")
    w("    action: receive")
    w("    channel:")
    w("      $ref: '#/channels/rejected'")
    w("    summary: Ops and upstream owners inspect rejected input.")

    w("components:")
    w("  messageTraits:")
    w("    cloudEventBinary:")
    w("      headers:")
    w("        type: object")
    w("        required: [ce-specversion, ce-id, ce-source, ce-type]")
    w("        properties:")
    for h, d in [("ce-specversion", "always 1.0"), ("ce-id", "unique per source; source + id identify the event; at most 255 bytes"),
                 ("ce-source", "URI-reference of the producer; at most 255 bytes"), ("ce-type", "the event type; at most 255 bytes"),
                 ("ce-time", "RFC 3339; at most 64 bytes"), ("ce-subject", "usually the ticket / problem / defect id; at most 255 bytes"),
                 ("ce-dataschema", "the schema URI of the data; at most 2048 bytes"),
                 ("ce-causationid", "id of the event that caused this one; at most 2048 bytes"),
                 ("ce-correlationid", "the ticket id; at most 2048 bytes"), ("ce-traceparent", "W3C trace context; at most 256 bytes"),
                 ("ce-tracestate", "W3C trace context; at most 2048 bytes")]:
        w(f"          {h}:")
        w("            type: string")
        w(f"            description: {json.dumps(d)}")
    w("      contentType: application/json")
    w("      bindings:")
    w("        amqp:")
    w("          deliveryMode: 2")
    w("          bindingVersion: 0.3.0")
    w("  messages:")
    for t in TYPES:
        w(f"    {msg_id(t)}:")
        w(f"      name: {t}")
        w(f"      title: {msg_id(t)}")
        w(f"      summary: {json.dumps(TYPES[t][2])}")
        w("      contentType: application/json")
        w("      traits:")
        w("        - $ref: '#/components/messageTraits/cloudEventBinary'")
        w("      payload:")
        w("        schemaFormat: application/schema+json;version=draft-2020-12")
        w("        schema:")
        w(f"          $ref: './Schemas/{t}.json'")
    return "\n".join(lines) + "\n"


def main():
    os.makedirs(os.path.join(OUT, "Schemas"), exist_ok=True)
    for t in TYPES:
        with open(os.path.join(OUT, "Schemas", t + ".json"), "w", encoding="utf-8") as f:
            json.dump(schema_for(t), f, indent=2, ensure_ascii=False)
            f.write("\n")
    with open(os.path.join(OUT, "asyncapi.yaml"), "w", encoding="utf-8") as f:
        f.write(asyncapi())
    print(f"wrote {len(TYPES)} schemas and asyncapi.yaml")


if __name__ == "__main__":
    main()
