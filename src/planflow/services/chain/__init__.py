"""The reporting chain as it runs: a module of handlers per BPMN process, the tasks and instances they
move, timers and the cadence that start them."""
