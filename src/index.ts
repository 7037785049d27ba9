// The main step's entry. Loading the bundle takes about a second on a busy runner, so the log
// shows that the step runs before it loads: the action is a chunk of its own (action.ts).
process.stdout.write(`dbt-materialize-deploy (Node ${process.versions.node})\n`)
await import('./action.js')
