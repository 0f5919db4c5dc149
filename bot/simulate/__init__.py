"""`jixing simulate`: synthetic enterprises, workers and their learning (`simulation.simulate`).

Modules: `simulation` (the run), `activity` (workers played message by message), `curriculum`
(the quiz bank as walked), `people` (names, companies, identities), `writer` (bulk inserts),
`command` (the CLI). Kept light so `jixing` starts without loading them.
"""
