namespace PMS.Flags.Engine.Guardrails;

/// <summary>
/// Builds guardrails from their definitions, sharing one HttpClient. A rollout rebuilt from the ledger by another
/// process gets its checks from here; tests inject an HttpMessageHandler that plays Prometheus. The Kubernetes
/// deployment guardrail will be one more kind here.
/// </summary>
public sealed class GuardrailFactory : IDisposable
{
    private readonly HttpClient client;
    private readonly GuardrailHttpOptions options;
    private readonly TimeProvider time;

    public GuardrailFactory(HttpMessageHandler? handler = null, GuardrailHttpOptions? options = null, TimeProvider? time = null)
    {
        // Timeouts are the retry policy's job (per attempt); the client's own 100 s default would cut across it.
        client = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        client.Timeout = Timeout.InfiniteTimeSpan;
        client.DefaultRequestHeaders.UserAgent.ParseAdd("PMS.Flags/0.1 (guardrail)");
        this.options = options ?? GuardrailHttpOptions.Default;
        this.time = time ?? TimeProvider.System;
    }

    public IGuardrail Create(GuardrailDefinition definition)
    {
        definition.Validate();
        return definition.Kind switch
        {
            GuardrailDefinition.PrometheusKind => new PrometheusGuardrail(definition, new GuardrailHttp(client, options, retryServerErrors: true), time),
            GuardrailDefinition.HttpHealthKind => new HttpHealthGuardrail(definition, new GuardrailHttp(client, options, retryServerErrors: false), time),
            GuardrailDefinition.DeploymentKind => new DeploymentGuardrail(definition, time),
            _ => throw new InvalidOperationException($"Unreachable: kind '{definition.Kind}' passed validation."),
        };
    }

    public void Dispose() => client.Dispose();
}
