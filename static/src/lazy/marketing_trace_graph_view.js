import { registry } from "@web/core/registry";
import { GraphRenderer } from "@web/views/graph/graph_renderer";
import { graphView } from "@web/views/graph/graph_view";

// the colours of the trace states, as the documentation shows them
export const TRACE_STATE_COLORS = {
    scheduled: "#f0ad4e",
    processed: "#1f77b4",
    error: "#d62728",
    canceled: "#2ca02c",
    rejected: "#9ecae1",
};

/** Traces grouped by state are drawn in the colour of their state. */
export class MarketingTraceGraphRenderer extends GraphRenderer {
    getBarChartData() {
        const data = super.getBarChartData();
        const selection = this.model.metaData.fields.state?.selection || [];
        const stateByLabel = Object.fromEntries(selection.map(([value, label]) => [label, value]));
        for (const dataset of data.datasets) {
            const color = TRACE_STATE_COLORS[stateByLabel[dataset.label]];
            if (color) {
                dataset.backgroundColor = color;
            }
        }
        return data;
    }
}

registry.category("views").add("marketing_trace_graph", {
    ...graphView,
    Renderer: MarketingTraceGraphRenderer,
});
