"""Budgets, rate limits and principals on top of the store (`router.store`).

`service.BudgetService` is what the request path calls: `pressure` before routing (soft
budgets), `admit` before the upstream call (reserve or refuse); the `holds.Hold` it returns is
settled by `Exchange.close()`. Its parts, one idea each: `admission` (the pressure and the
admitted request as values, and how a refusal is read, pure), `estimate` (what a request may cost,
pure), `refusals` (the 429/503 errors, pure), `ratelimit` (rules and `x-ratelimit-*` headers),
`soft` (thresholds and effort caps, pure), `cache` (budget records read every few seconds),
`flight` (store calls shared and bounded), `directory` (API keys looked up in the store,
cached), `journal` and `recovery` (the local record that survives a crash or an outage),
`alerts` (soft-threshold metric and webhook), `metrics`. Around it: `seed` (config-declared
principals and budgets, at start-up), `validate` (config checks), `admin_ops` (what the admin
API and the command line do), `commands` (the command line's work).
"""
