import { onWillStart } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

/**
 * The vocabulary of the workflow (labels, icons, triggers, measures, state
 * colours), as marketing.activity's get_workflow_vocabulary() gives it: read
 * once per page, never restated here.
 */
export const workflowVocabularyService = {
    dependencies: ["orm"],
    start(env, { orm }) {
        let loading = null;
        return {
            load() {
                loading ??= orm
                    .call("marketing.activity", "get_workflow_vocabulary", [])
                    .catch((error) => {
                        loading = null;
                        throw error;
                    });
                return loading;
            },
        };
    },
};

registry.category("services").add("marketing_workflow_vocabulary", workflowVocabularyService);

/** The vocabulary, filled before the component first renders. */
export function useWorkflowVocabulary() {
    const service = useService("marketing_workflow_vocabulary");
    const vocabulary = {};
    onWillStart(async () => Object.assign(vocabulary, await service.load()));
    return vocabulary;
}

/**
 * The CSS value of a Bootstrap colour of the vocabulary (``alpha``: its
 * transparency). Odoo compiles Bootstrap without the ``bs-`` prefix of its
 * variables (``--success-rgb``).
 */
export function cssColor(name, alpha = 1) {
    const style = getComputedStyle(document.documentElement);
    const rgb = (
        style.getPropertyValue(`--${name}-rgb`) || style.getPropertyValue(`--bs-${name}-rgb`)
    ).trim();
    return rgb ? `rgba(${rgb}, ${alpha})` : "";
}
