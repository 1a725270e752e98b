module startup-tracer/scripts/jaeger

go 1.26
