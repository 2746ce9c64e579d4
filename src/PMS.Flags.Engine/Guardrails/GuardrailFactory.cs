namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// Builds guardrails from their definitions, sharing one HttpClient. A rollout rebuilt from the ledger by another
/// process gets its checks from here; tests inject an HttpMessageHandler that plays Prometheus. The Kubernetes
/// deployment guardrail will be one more kind here.
/// </summary>
public sealed class GuardrailFactory : IDisposable
{
    // Created on first use: an emergency rollback builds a factory for the rollout engine it notifies but never
    // evaluates a guardrail, and must not pay for loading the HTTP stack before the flag is off.
    private readonly Lazy<HttpClient> client;
    private readonly GuardrailHttpOptions options;
    private readonly TimeProvider time;

    public GuardrailFactory(HttpMessageHandler? handler = null, GuardrailHttpOptions? options = null, TimeProvider? time = null)
    {
        client = new Lazy<HttpClient>(() =>
        {
            // Timeouts are the retry policy's job (per attempt); the client's own 100 s default would cut across it.
            var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
            http.Timeout = Timeout.InfiniteTimeSpan;
            http.DefaultRequestHeaders.UserAgent.ParseAdd("PMS.Flags/0.1 (guardrail)");
            return http;
        });
        this.options = options ?? GuardrailHttpOptions.Default;
        this.time = time ?? TimeProvider.System;
    }

    public IGuardrail Create(GuardrailDefinition definition)
    {
        definition.Validate();
        return definition.Kind switch
        {
            GuardrailDefinition.PrometheusKind => new PrometheusGuardrail(definition, new GuardrailHttp(client.Value, options, retryServerErrors: true), time),
            GuardrailDefinition.HttpHealthKind => new HttpHealthGuardrail(definition, new GuardrailHttp(client.Value, options, retryServerErrors: false), time),
            GuardrailDefinition.CohortKind => new CohortGuardrail(definition, new GuardrailHttp(client.Value, options, retryServerErrors: true), time),
            GuardrailDefinition.DeploymentKind => new DeploymentGuardrail(definition, time),
            GuardrailDefinition.AlertmanagerKind => new AlertmanagerGuardrail(definition, new GuardrailHttp(client.Value, options, retryServerErrors: true), time),
            _ => throw new InvalidOperationException($"Unreachable: kind '{definition.Kind}' passed validation."),
        };
    }

    public void Dispose()
    {
        if (client.IsValueCreated)
        {
            client.Value.Dispose();
        }
    }
}
