package trace

const processStartKnown = true
