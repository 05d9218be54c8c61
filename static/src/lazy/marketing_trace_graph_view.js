import { registry } from "@web/core/registry";
import { GraphRenderer } from "@web/views/graph/graph_renderer";
import { graphView } from "@web/views/graph/graph_view";
import { cssColor, useWorkflowVocabulary } from "@marketing_automation_community/workflow/vocabulary";

/** Traces grouped by state are drawn in the colour of their state. */
export class MarketingTraceGraphRenderer extends GraphRenderer {
    setup() {
        super.setup();
        this.vocabulary = useWorkflowVocabulary();
    }

    getBarChartData() {
        const data = super.getBarChartData();
        const selection = this.model.metaData.fields.state?.selection || [];
        const stateByLabel = Object.fromEntries(selection.map(([value, label]) => [label, value]));
        for (const dataset of data.datasets) {
            const color = this.vocabulary.state_colors[stateByLabel[dataset.label]];
            if (color) {
                dataset.backgroundColor = cssColor(color);
            }
        }
        return data;
    }
}

registry.category("views").add("marketing_trace_graph", {
    ...graphView,
    Renderer: MarketingTraceGraphRenderer,
});
