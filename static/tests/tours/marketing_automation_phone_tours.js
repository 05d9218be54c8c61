import { registry } from "@web/core/registry";

/**
 * Throw unless the window is phone-sized and each element of ``selector``
 * (at least one) lies within its width and is not squeezed under ``minRatio``
 * of it.
 */
function checkFitsScreen(selector, minRatio) {
    const width = window.innerWidth;
    if (width >= 768) {
        throw new Error(`The window is ${width} px wide: not a phone`);
    }
    const elements = [...document.querySelectorAll(selector)];
    if (!elements.length) {
        throw new Error(`Nothing matches ${selector}`);
    }
    for (const element of elements) {
        const { left, right } = element.getBoundingClientRect();
        if (left < -0.5 || right > width + 0.5) {
            throw new Error(
                `${selector} "${element.textContent.trim().slice(0, 40)}" spans ${left}-${right} px, the screen ${width} px`
            );
        }
        if (right - left < width * minRatio) {
            throw new Error(
                `${selector} "${element.textContent.trim().slice(0, 40)}" is ${right - left} px wide on a ${width} px screen`
            );
        }
    }
    if (document.documentElement.scrollWidth > width + 0.5) {
        throw new Error(`The page is ${document.documentElement.scrollWidth} px wide`);
    }
}

registry.category("web_tour.tours").add("marketing_automation_phone_templates_tour", {
    steps: () => [
        {
            content: "No campaign: the template cards fill the phone's screen",
            trigger: '.o_marketing_campaign_template[data-template="welcome"] .card-title',
            run() {
                checkFitsScreen(".o_marketing_campaign_template", 0.75);
                checkFitsScreen(".o_marketing_campaign_template .card-title", 0.2);
            },
        },
    ],
});

registry.category("web_tour.tours").add("marketing_automation_phone_workflow_tour", {
    steps: () => [
        {
            content: "The deepest block of the workflow is drawn",
            trigger: '.o_ma_activity[data-depth="5"] .o_ma_activity_card',
            run() {
                checkFitsScreen(".o_ma_activity, .o_ma_activity_card", 0.6);
                checkFitsScreen(".o_ma_activity_edit, .o_ma_activity_delete, .o_ma_totals", 0);
            },
        },
    ],
});
