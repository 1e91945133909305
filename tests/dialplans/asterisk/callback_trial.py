"""Place callbacks through the kit's Asterisk with callrouter's AMIPlacer (a trial driver, not a
test: deploy with callback-trial.conf, then CALLROUTER_AMI_SECRET=... python this [attempt ids])."""

import asyncio
import os
import sys
import time
from datetime import timedelta

from callrouter.ami import AMIClient
from callrouter.callbacks.pbx import AMIPlacer
from callrouter.callbacks.placing import AttemptRequest

CASES = [
    (101, "Local/expert7@trial-experts", "0612345678"),
    (102, "Local/expert7@trial-experts", "0699000001"),
    (103, "Local/expert7@trial-experts", "0698000001"),
    (104, "Local/expert-noanswer@trial-experts", "0612345678"),
    (105, "Local/expert-busy@trial-experts", "0612345678"),
    (106, "Local/nobody@nowhere", "0612345678"),
]


async def main() -> None:
    results = []

    async def on_result(r):
        print(f"{time.strftime('%H:%M:%S')} RESULT {r}", flush=True)
        results.append(r)

    seen = []
    client = AMIClient("127.0.0.1", 5038, "callrouter", os.environ["CALLROUTER_AMI_SECRET"])
    await client.connect()
    client.subscribe(
        lambda m: (
            seen.append((time.monotonic(), m))
            if m.name
            in (
                "OriginateResponse",
                "UserEvent",
                "DialBegin",
                "DialEnd",
                "BridgeEnter",
                "BridgeLeave",
                "Hangup",
            )
            else None
        )
    )
    placer = AMIPlacer(client, on_result)
    start = time.monotonic()
    which = sys.argv[1:] or [str(c[0]) for c in CASES]
    for attempt, expert, customer in CASES:
        if str(attempt) not in which:
            continue
        await placer.place(
            AttemptRequest(
                attempt,
                attempt,
                expert,
                customer,
                timedelta(seconds=10),
                timedelta(seconds=6),
                "callback",
            )
        )
        if attempt == 101:
            await asyncio.sleep(10)
            print("reconcile while up:", await placer.reconcile([101]), flush=True)
        async with asyncio.timeout(40):
            while not any(r.attempt_id == attempt for r in results):
                await asyncio.sleep(0.1)
        await asyncio.sleep(1)
    for at, m in seen:
        keys = (
            "ActionID",
            "Response",
            "Reason",
            "Channel",
            "DestChannel",
            "DialStatus",
            "BridgeUniqueid",
            "UserEvent",
            "Attempt",
            "Cause-txt",
        )
        print(
            f"+{at - start:7.3f} {m.name:18} "
            + " ".join(f"{k}={m.get(k)}" for k in keys if m.get(k))
        )
    await placer.close()
    await client.close()


if __name__ == "__main__":
    asyncio.run(main())
